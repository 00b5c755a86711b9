"""Errors a user can fix by changing the config: reported as one line, exit code 2."""


class ConfigError(ValueError):
    """A bad config value; the message starts with the key path that is wrong."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)
