"""moodlens: facial emotion recognition with a small CNN on 48x48 grayscale faces."""

from moodlens.errors import MoodlensError

__all__ = ["MoodlensError"]
