"""The one error type the command lines turn into a one-line message and a non-zero exit."""


class MoodlensError(Exception):
    """A problem with the user's input (data, model, source, options), said in one line."""
