"""The emotion labels: one fixed order, shared by data loading, the model and the overlay."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# FER2013's CSV numbers the emotions in its own order.
FER2013_CSV_ORDER: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def canonical_order(names: set[str] | list[str]) -> tuple[str, ...]:
    """Return the given emotion names in the fixed order; unknown names are not emotions."""
    return tuple(e for e in EMOTIONS if e in set(names))
