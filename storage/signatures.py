"""Text to MinHash signature, for near-duplicate articles (mirrors); no SQL here.

A Traditional-Chinese mirror (or another site reposting a notice) is a separate article whose
text is the same once both are reduced to Simplified characters. Each article's title and body
become comparable text (Simplified, without chrome or punctuation), its character shingles a
MinHash signature, and the signature LSH band keys. Two signatures agreeing in at least
``THRESHOLD`` of their values estimate that the two texts' shingles are that alike (Jaccard).
Storing and linking them is :mod:`storage.duplicates`.

The conversion is OpenCC's character-level ``t2s`` table: the phrase-level profiles (``tw2sp``
and friends) also rewrite vocabulary (軟體 -> 软件), which would make a mirror *less* like its
mainland original, not more.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from functools import lru_cache
from pathlib import Path

from govarchive.storage.codepoints import points as code_points
from govarchive.storage.codepoints import text_of, word_characters
from govarchive.storage.content import strip_chrome

NUM_PERM = 64
# 10 bands of 6 rows: a pair at Jaccard 0.8 is a candidate with probability 0.95, at 0.5 with
# 0.15, at 0.4 with 0.04. Lower thresholds flood templated sections (every 通知 of one office
# shares its boilerplate) with candidates that all fail THRESHOLD anyway.
BANDS = 10
ROWS = 6
SHINGLE = 3
THRESHOLD = 0.8
# Shorter texts (a title and a line) are too alike across unrelated notices to compare.
MIN_CHARS = 40
SEED = 20240301
# Everything but letters and digits (CJK included): punctuation differs between the
# Traditional and Simplified typesetting of the same text (「」 vs “”).
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """OpenCC's Traditional-to-Simplified *character* table as a ``str.translate`` table.

    The same mapping as OpenCC's ``t2s`` character step; used directly because converting
    character by character is all near-duplicate detection needs, and a table lookup does
    it without the pure-Python converter's per-character work.
    """
    import opencc

    path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets.split():
            table[ord(source)] = targets.split()[0]
    return table


def prepare_signatures() -> None:
    """Build the tables signatures need now (numpy, OpenCC's table, the permutations, the
    per-character CRC steps), so the first article does not wait for them."""
    _t2s_array()
    _permutations()
    _character_crc()
    word_characters()


def comparable_text(title: str | None, body: str | None) -> str:
    """Title and body in Simplified characters, without chrome, punctuation or spaces."""
    text = strip_chrome(f"{title or ''}\n{body or ''}")
    try:
        simplified = _simplified_points(code_points(text))
    except UnicodeEncodeError:  # a lone surrogate: no array form
        return _NOT_WORD.sub("", to_simplified(text)).lower()
    # _NOT_WORD's characters are exactly those that are not word characters.
    return text_of(simplified[word_characters()[simplified]]).lower()


def to_simplified(text: str) -> str:
    """``text.translate(_t2s_table())``, as one array lookup: ``str.translate`` with a dict
    makes an int object and a dict lookup for every character of an article."""
    try:
        points = code_points(text)
    except UnicodeEncodeError:  # a lone surrogate: no array form
        return text.translate(_t2s_table())
    return text_of(_simplified_points(points))


def _simplified_points(points):
    import numpy as np

    lookup = _t2s_array()
    return np.where(points < len(lookup), lookup[np.minimum(points, len(lookup) - 1)], points)


@lru_cache(maxsize=1)
def _t2s_array():
    """``_t2s_table`` as an array indexed by code point (every target is one character)."""
    import numpy as np

    table = _t2s_table()
    lookup = np.arange(max(table) + 1, dtype=np.uint32)
    lookup[list(table)] = [ord(target) for target in table.values()]
    return lookup


def shingles(text: str) -> set[str]:
    if len(text) < SHINGLE:
        return {text} if text else set()
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def signature(grams: set[str]) -> list[int]:
    """The MinHash signature of a shingle set (NUM_PERM values below 2**32)."""
    import numpy as np

    return _minhash(np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams),
                                dtype=np.uint32, count=len(grams)))


def text_signature(text: str) -> list[int]:
    """``signature(shingles(text))``, computed in numpy: the CRC-32s of all the text's
    shingles at once, instead of a Python set of thousands of 3-character strings hashed one
    by one. A shingle that occurs twice is hashed twice, which leaves every minimum as it is.

    zlib's CRC-32 register after a character is an affine function of the register before
    it: ``step(register) = zero_bytes(register, n) ^ constant``, where ``n`` is the length of
    the character's UTF-8 and ``constant`` the register after the character from zero
    (``_character_crc``). So a shingle's CRC is three table steps per shingle, all shingles
    together, whatever the lengths of their characters.
    """
    import numpy as np

    if len(text) < SHINGLE:
        return signature(shingles(text))
    points = code_points(text)
    start, constant, width, zero_bytes = _character_crc()
    count = len(points) - SHINGLE + 1
    register = start[points[:count]]  # after the first character, from zlib's 0xFFFFFFFF
    row = width[points] * np.intp(1024)  # each character's UTF-8 length picks a table row
    step = constant[points]
    for k in range(1, SHINGLE):
        rows = row[k : k + count]
        register = (zero_bytes[rows + (register & 0xFF)]
                    ^ zero_bytes[rows + 256 + ((register >> 8) & 0xFF)]
                    ^ zero_bytes[rows + 512 + ((register >> 16) & 0xFF)]
                    ^ zero_bytes[rows + 768 + (register >> 24)]
                    ^ step[k : k + count])
    return _minhash(register ^ np.uint32(0xFFFFFFFF))


@lru_cache(maxsize=1)
def _character_crc():
    """Tables for ``text_signature``, an entry per code point, built once a process:

    - ``start[c]``: zlib's CRC-32 register after character ``c`` (its UTF-8 bytes) from the
      initial 0xFFFFFFFF;
    - ``constant[c]``: the register after ``c`` from 0;
    - ``width[c]``: the number of UTF-8 bytes of ``c``;
    - ``zero_bytes[n * 1024 + 256 * k + v]``: the register after ``n`` zero bytes from the
      register ``v << 8k``. The register's four bytes go through it separately and the
      results XOR together, as the CRC is linear in its register.
    """
    import numpy as np

    table = _crc_table()
    every = np.arange(0x110000, dtype=np.uint32)
    width, utf8 = _utf8_bytes(every)

    def after_character(register: int):
        state = np.full(len(every), register, dtype=np.uint32)
        for j in range(4):
            moved = table[(state ^ utf8[j]) & np.uint32(0xFF)] ^ (state >> np.uint32(8))
            state = np.where(width > j, moved, state)
        return state

    zero_bytes = np.zeros((5, 1024), dtype=np.uint32)
    register = np.array([v << (8 * k) for k in range(4) for v in range(256)], dtype=np.uint32)
    for n in range(1, 5):
        register = table[register & np.uint32(0xFF)] ^ (register >> np.uint32(8))
        zero_bytes[n] = register
    start, constant = after_character(0xFFFFFFFF), after_character(0)
    return start, constant, width.astype(np.intp), zero_bytes.ravel()


def _utf8_bytes(points):
    """(lengths, bytes): each code point's UTF-8 length and its bytes, ``bytes[j]`` being
    the j-th byte of every character (0 past its length)."""
    import numpy as np

    lengths = (1 + (points >= 0x80).astype(np.uint8) + (points >= 0x800)
               + (points >= 0x10000))
    utf8 = np.zeros((4, len(points)), dtype=np.uint32)
    for length in np.unique(lengths).tolist():
        mask = lengths == length
        cps = points[mask]
        lead = (0, 0, 0xC0, 0xE0, 0xF0)[length]
        utf8[0, mask] = (cps >> np.uint32(6 * (length - 1))) | np.uint32(lead)
        for j in range(1, length):
            utf8[j, mask] = (cps >> np.uint32(6 * (length - 1 - j))) & np.uint32(0x3F) | np.uint32(
                0x80)
    return lengths, utf8


def _minhash(hashes) -> list[int]:
    """datasketch's ``MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)`` after
    ``update_batch`` of the shingles (its "affine32" scheme, the default since datasketch
    2.0), given the shingles' CRC-32s: the same values as the signatures already stored.

    Done here rather than through datasketch: its MinHash draws its permutations afresh for
    every object, and importing it pulls in redis and asyncio storage back ends.
    """
    import numpy as np

    a, b = _permutations()
    if not len(hashes):
        return [0xFFFFFFFF] * NUM_PERM
    # MurmurHash3's 32-bit finalizer, then h -> a*h + b mod 2**32 for every permutation.
    h = hashes.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    # One row per permutation: the minimum runs along contiguous memory, where reducing
    # the columns of a shingles-by-permutations array would stride across it.
    permuted = np.multiply.outer(a, h)
    permuted += b[:, None]
    return permuted.min(axis=1).tolist()


@lru_cache(maxsize=1)
def _permutations():
    import numpy as np

    # The draws datasketch makes for the affine32 scheme, in the same order.
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


@lru_cache(maxsize=1)
def _crc_table():
    import numpy as np

    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table.astype(np.uint32)


def band_keys(values: list[int]) -> list[str]:
    """The LSH band keys of a signature: ``"<band>:<hash of the band's values>"``."""
    keys = []
    for band in range(BANDS):
        chunk = struct.pack(f">{ROWS}Q", *values[band * ROWS : (band + 1) * ROWS])
        keys.append(f"{band:02d}:{hashlib.blake2b(chunk, digest_size=10).hexdigest()}")
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    if len(a) != len(b) or not a:
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def article_signature(title: str | None, body: str | None) -> list[int] | None:
    """The MinHash signature an article is compared by; None when its text is too short."""
    text = comparable_text(title, body)
    return text_signature(text) if len(text) >= MIN_CHARS else None

