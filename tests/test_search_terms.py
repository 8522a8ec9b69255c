"""The index terms of a text: the numpy term builder against the plain definition."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govarchive.storage.search_terms import (
    ARRAY_MIN_CHARS,
    _array_terms,
    _plain_terms,
    normalise,
    token_text,
    tokens,
)

# Characters where the two could part ways: CJK and ASCII words meeting, underscores,
# full-width forms and the ideographic space (folded before NFKC), characters NFKC or
# casefold change or expand (①, ﬁ, ß, ǅ, K), combining marks, an astral ideograph, spaces.
TRICKY = ("中文汛工作一" "aZz09_" "ＡＢｚ１，（）：" "\u3000 \t\n-。、“”"
          "①ﬁßǅ\u212a" "e\u0301\u0338" "\U00020000\U0002a6a5" "ж")


def both_ways(text: str, trailing: bool = True) -> tuple[str, str]:
    folded = normalise(text).replace("_", "")
    try:
        points = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:
        pytest.skip("a lone surrogate has no array form")
    return _array_terms(points, trailing), " ".join(_plain_terms(folded, trailing))


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=TRICKY, max_size=40), trailing=st.booleans())
def test_array_terms_agree_with_the_definition(text, trailing):
    array, plain = both_ways(text, trailing)
    assert array == plain


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
def test_array_terms_agree_on_any_text(text):
    array, plain = both_ways(text)
    assert array == plain


def test_long_texts_take_the_array_path_and_agree():
    text = "防汛工作，ＧＤＰ增长2024年①snake_case。" * 20
    assert len(text) > ARRAY_MIN_CHARS
    array, plain = both_ways(text)
    assert token_text(text) == array == plain
    assert tokens(text) == plain.split()


@pytest.mark.parametrize("text", ["防汛工作，（ＧＤＰ）增长", "\u3000第一条：", "ｅ\u0301", "＜\u0338"])
def test_folding_full_width_forms_first_keeps_nfkc(text):
    assert normalise(text) == unicodedata.normalize("NFKC", text).casefold()


def test_examples():
    assert token_text("防汛工作，GDP增长2024") == "防汛 汛工 工作 作 gdp 增长 长 2024"
    assert token_text("防汛工作", trailing=False) == "防汛 汛工 工作"
    assert token_text("中", trailing=False) == "中"  # a lone character is its own term
    assert token_text("snake_case ＡＢＣ") == "snakecase abc"
    assert token_text("，。 ") == ""
    assert token_text(None) == ""
    assert token_text("a\ud800b") == "a b"  # a lone surrogate: the plain path
