"""One error type for everything a user can get wrong or the environment can refuse.

A HarnessError's message is one line that says what went wrong and what to do; the command
line prints it as `sotto-adversary: error: MESSAGE` and exits 2 (usage) or 1 (everything else).
Bugs are not HarnessErrors: they propagate with a traceback."""


class HarnessError(Exception):
    """A failure the user can act on. `usage` selects exit code 2 instead of 1."""

    def __init__(self, message, usage=False):
        super().__init__(message)
        self.usage = usage
