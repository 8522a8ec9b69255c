"""Tables indexed by Unicode code point, for text work done as numpy array operations.

Ingest-time text processing (search terms, near-duplicate signatures) runs over every stored
article, where a Python loop per character would dominate ingest. Instead a text becomes
an array of code points (``points``), and a question about each character becomes one lookup
in a table with an entry for every code point. The tables are built once per process.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CODE_POINTS = 0x110000


def points(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32 (UnicodeEncodeError for a lone surrogate)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def text_of(array: np.ndarray) -> str:
    """The text whose code points are ``array``."""
    return array.astype("<u4", copy=False).tobytes().decode("utf-32-le")


@lru_cache(maxsize=1)
def word_characters() -> np.ndarray:
    """Whether each code point is a word character for Python's ``re`` (``\\w``: letters
    and digits of any script, ``str.isalnum``), the underscore excluded."""
    table = np.fromiter(map(str.isalnum, map(chr, range(CODE_POINTS))), dtype=bool,
                        count=CODE_POINTS)
    table[ord("_")] = False
    return table
