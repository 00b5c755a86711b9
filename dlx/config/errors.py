"""Errors a user can fix by changing the config: reported as one line, exit code 2."""


class ConfigError(ValueError):
    """A bad config value; the message starts with the key path that is wrong."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


def first_line(e: BaseException) -> str:
    """The first non-blank line of an exception's message (its type's name if it has none)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def one_line(text: str) -> str:
    """A message that may span lines (a library's), joined into one: dlx's errors are a single line."""
    return " ".join(ln.strip() for ln in text.splitlines() if ln.strip())
