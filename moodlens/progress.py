"""One progress bar for long runs (detect.py on a video file or folder, evaluate.py): the count, the
rate and the time left, on stderr, and only when stderr is a terminal (a log or a pipe gets none)."""

import sys

from tqdm import tqdm

BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, ETA {remaining}, {rate_fmt}]"


def progress_bar(total: int | None, unit: str, shown: bool = True) -> tqdm:
    """A bar over `total` units; with `shown` False or no total it only counts, silently."""
    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0.5,
                disable=None if shown and total else True, bar_format=BAR_FORMAT)
