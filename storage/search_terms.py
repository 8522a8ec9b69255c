"""The terms the full-text index holds for a text (and a query asks for).

Chinese has no spaces between words and no stemmer we can rely on, so text is indexed as
overlapping character bigrams ("防汛工作" -> 防汛 汛工 工作 作): every 2-character word is one
index term, longer words are phrases of bigrams, and the trailing single character of each
run lets one-character queries work as prefix queries. Latin letters and digits are indexed
as lower-cased words. Text is NFKC-normalised and case-folded first (full-width ＧＤＰ is gdp).

Ingest makes the terms of every stored article, so this is on the crawl's hot path. For a
long text :func:`token_text` builds the space-separated terms with a handful of numpy
operations over its code points (``_array_terms``) instead of a Python string per term;
:func:`tokens` is the same terms as a list. ``_plain_terms`` is the definition, used for
short texts (a query, a title: no lookup table to build) and for what numpy cannot take (a
lone surrogate); the tests check that the two always agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

import numpy as np

from govarchive.storage.codepoints import points as code_points
from govarchive.storage.codepoints import text_of, word_characters

# Code point classes of the term builder.
_OTHER, _ASCII_WORD, _CJK_WORD = 0, 1, 2
_SPACE = np.uint32(ord(" "))
# Texts shorter than this are split the plain way: numpy's fixed cost per call is larger.
ARRAY_MIN_CHARS = 200


def is_cjk(char: str) -> bool:
    return not char.isascii()


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII) and case-folded."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII as it is; casefold of ASCII is lower
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", _fold_full_width(text))
    return text.casefold()


def _fold_full_width(text: str) -> str:
    """Full-width ASCII forms (U+FF01-FF5E) and the ideographic space as their NFKC
    equivalents, at numpy speed.

    Chinese text is almost never NFKC-normal only because of its full-width punctuation
    (，：；（）), and ``unicodedata.normalize`` walks a long article in Python-level steps even
    when that is all it changes. Each of these characters decomposes to one ASCII character that
    composes with nothing before it, so ``NFKC(_fold_full_width(t)) == NFKC(t)``: folding
    first changes nothing in the result, and the remaining text is usually normal already.
    """
    try:
        points = code_points(text)
    except UnicodeEncodeError:  # a lone surrogate: leave it all to unicodedata
        return text
    wide = (points >= 0xFF01) & (points <= 0xFF5E)
    points = np.where(wide, points - np.uint32(0xFEE0), points)
    return text_of(np.where(points == 0x3000, _SPACE, points))


# ASCII words, and runs of the other word characters (CJK). Split "gdp增长2024" into gdp /
# 增长 / 2024: bigrams only make sense inside CJK runs. An underscore joins what it sits in
# (it is a word character) and is dropped.
_RUN = re.compile(r"[0-9a-z]+|[^\W0-9a-z]+")


def runs(text: str) -> list[str]:
    """Runs of word characters: ASCII words, and runs of non-ASCII letters (CJK)."""
    return _RUN.findall(normalise(text).replace("_", ""))


def tokens(text: str | None, *, trailing: bool = True) -> list[str]:
    """Index terms of ``text``: CJK bigrams (plus each run's last character when
    ``trailing``) and lower-cased ASCII words."""
    return token_text(text, trailing=trailing).split()


def token_text(text: str | None, *, trailing: bool = True) -> str:
    """``" ".join(tokens(text))``, made without a Python string per term."""
    if not text:
        return ""
    folded = normalise(text).replace("_", "")
    if len(folded) >= ARRAY_MIN_CHARS:
        try:
            points = code_points(folded)
        except UnicodeEncodeError:
            pass
        else:
            return _array_terms(points, trailing)
    return " ".join(_plain_terms(folded, trailing))


def _array_terms(points: np.ndarray, trailing: bool) -> str:
    """The terms of normalised text (its code points, underscores removed), space-separated.

    Every character writes a fixed piece of the output: a bigram's first character "xy ",
    the last character of a CJK run "x " (when kept), a character of an ASCII word "x" and
    after the word's last one a space. The pieces' widths give their offsets; three scatters
    fill them in.
    """
    if not len(points):
        return ""
    kind = _classes()[points]
    # Where a run of one class goes on to the next character, and where one came from.
    goes_on = np.zeros(len(points), dtype=bool)
    goes_on[:-1] = (kind[:-1] == kind[1:]) & (kind[:-1] != _OTHER)
    came_from = np.zeros(len(points), dtype=bool)
    came_from[1:] = goes_on[:-1]
    cjk = kind == _CJK_WORD
    ascii_word = kind == _ASCII_WORD
    bigram_start = cjk & goes_on
    run_end = (kind != _OTHER) & ~goes_on
    kept_end = cjk & run_end & (trailing | ~came_from)
    width = (3 * bigram_start + 2 * kept_end + ascii_word + (ascii_word & run_end)).astype(np.intp)
    if not width.any():
        return ""
    start = np.cumsum(width) - width
    out = np.empty(int(start[-1] + width[-1]), dtype=np.uint32)
    writes = width > 0
    out[start[writes]] = points[writes]
    second = width >= 2
    following = np.empty_like(points)
    following[:-1] = points[1:]
    following[-1] = _SPACE
    out[start[second] + 1] = np.where(bigram_start[second], following[second], _SPACE)
    out[start[width == 3] + 2] = _SPACE
    return text_of(out[:-1])


@lru_cache(maxsize=1)
def _classes() -> np.ndarray:
    """Every code point's class, as the ``_RUN`` pattern sees it in normalised text without
    underscores: ``\\w`` split into ASCII and the rest."""
    kind = np.where(word_characters(), _CJK_WORD, _OTHER).astype(np.uint8)
    kind[:128][kind[:128] == _CJK_WORD] = _ASCII_WORD
    return kind


def _plain_terms(folded: str, trailing: bool) -> list[str]:
    """The terms by definition, from normalised text without underscores."""
    out: list[str] = []
    for run in _RUN.findall(folded):
        if not is_cjk(run[0]):
            out.append(run)
            continue
        out += [a + b for a, b in pairwise(run)]
        if trailing or len(run) == 1:
            out.append(run[-1])
    return out
