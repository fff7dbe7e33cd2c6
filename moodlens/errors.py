"""The one error type the command lines turn into a one-line message and a non-zero exit, and the
short texts such messages are made of."""

import os


class MoodlensError(Exception):
    """A problem with the user's input (data, model, source, options), said in one line."""


def one_line(text: str) -> str:
    """A message folded onto one line (library messages sometimes span several)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def os_error_text(exc: OSError) -> str:
    """An OSError's reason, short: "No space left on device" rather than a library's paragraph."""
    return os.strerror(exc.errno) if exc.errno else one_line(str(exc))
