"""The exception a stop signal turns into (import-light: the error reporter needs it without Lightning)."""

import signal


class RunInterrupted(BaseException):
    """BaseException, as KeyboardInterrupt: no `except Exception` on the way up may swallow a stop."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
