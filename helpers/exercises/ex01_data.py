"""Checkers for the exercises of notebook 01 (data)."""

from __future__ import annotations

import numpy as np

from ._check import _report, _no_answer


def check_idx_file_size(answer) -> None:
    """Exercise: the size in bytes of the decompressed t10k-images file (10,000 images of 28 x 28)."""
    if _no_answer(answer):
        return
    expected = 16 + 10000 * 28 * 28
    ok = isinstance(answer, (int, np.integer)) and int(answer) == expected
    if not ok and isinstance(answer, (int, np.integer)) and int(answer) == 10000 * 28 * 28:
        return _report(False, "", "that counts the pixels; the file also starts with a header.")
    return _report(
        ok,
        "header plus one byte per pixel.",
        "count the header bytes (magic number and one 4-byte integer per dimension), then one byte per pixel.",
    )


def check_most_frequent_digit(answer, labels) -> None:
    """Exercise: the most frequent digit among ``labels`` (n,) ints, e.g. the training split's."""
    if _no_answer(answer):
        return
    counts = np.bincount(np.asarray(labels), minlength=10)
    ok = isinstance(answer, (int, np.integer)) and 0 <= int(answer) <= 9 and counts[int(answer)] == counts.max()
    return _report(
        ok,
        f"digit {int(answer) if ok else ''} appears {counts.max():,} times." if ok else "",
        "count each digit's occurrences (np.bincount does it in one call) and take the largest.",
    )
