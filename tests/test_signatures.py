"""Near-duplicate signatures: the numpy MinHash gives the values stored signatures have."""

from __future__ import annotations

import random
import zlib

import pytest

from govarchive.storage import signatures

MIRROR_TITLE = "北京優化營商環境"
MIRROR_BODY = ("北京市發展改革委出台優化營商環境若干措施，進一步優化辦事流程，切實減輕企業和群眾負擔。"
               "2024年計劃完成120個項目。")
# Characters of every UTF-8 length (1 to 4 bytes), CJK in both scripts, digits and Latin.
ALPHABET = "abcXYZ019北京营商環境優化éß€𠀀𝄞"


def random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def test_signature_of_a_known_text_never_changes():
    # Signatures are stored and compared with those of later crawls: any change to the
    # hashing (seed, permutations, base hash, shingling) would silently break every link.
    text = signatures.comparable_text(MIRROR_TITLE, MIRROR_BODY)
    assert text.startswith("北京优化营商环境北京市发展改革委")
    values = signatures.text_signature(text)
    assert values[:6] == [114076498, 48770008, 59464787, 353652016, 23729567, 5569055]
    assert signatures.band_keys(values)[:2] == ["00:470d12fe769755ebd4ac", "01:f8010cf294347d22e90c"]


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 40, 300, 3000])
def test_text_signature_equals_the_signature_of_the_shingle_set(length):
    text = random_text(random.Random(length), length)
    assert signatures.text_signature(text) == signatures.signature(signatures.shingles(text))


def test_comparable_text_keeps_the_word_characters_in_simplified_form():
    text = "北京優化營商環境：2024年，ＧＤＰ增長_5%。é\u0301 ①\U00020000\t\n"
    expected = signatures._NOT_WORD.sub("", signatures.to_simplified(text)).lower()
    assert signatures.comparable_text(text, None) == expected
    assert signatures.comparable_text("a\ud800b", "") == "ab"  # a lone surrogate: the plain path


def test_signature_equals_datasketch_minhash():
    datasketch = pytest.importorskip("datasketch")
    grams = signatures.shingles(random_text(random.Random(7), 500))
    minhash = datasketch.MinHash(num_perm=signatures.NUM_PERM, seed=signatures.SEED,
                                 hashfunc=zlib.crc32, scheme="affine32")
    minhash.update_batch([g.encode("utf-8") for g in grams])
    assert signatures.signature(grams) == [int(v) for v in minhash.hashvalues]


def test_empty_shingle_set_has_the_empty_signature():
    assert signatures.signature(set()) == [0xFFFFFFFF] * signatures.NUM_PERM


def test_article_signature_needs_enough_text():
    assert signatures.article_signature("短标题", "一行。") is None
    assert signatures.article_signature(MIRROR_TITLE, MIRROR_BODY) == signatures.text_signature(
        signatures.comparable_text(MIRROR_TITLE, MIRROR_BODY))


def test_a_mirror_and_its_original_have_nearly_the_same_signature():
    original = signatures.article_signature("北京优化营商环境", MIRROR_BODY.translate(
        signatures._t2s_table()))
    mirror = signatures.article_signature(MIRROR_TITLE, MIRROR_BODY)
    other = signatures.article_signature("上海推进城市更新", "上海市住房城乡建设管理委启动城市更新试点工作，"
                                    "计划完成三千五百个项目，及时回应群众关切。")
    assert signatures.similarity(original, mirror) == 1.0
    assert signatures.similarity(original, other) < signatures.THRESHOLD


def test_to_simplified_is_the_character_table_translation():
    table = signatures._t2s_table()
    traditional = "".join(chr(point) for point in table)
    assert signatures.to_simplified(traditional) == traditional.translate(table)
    text = random_text(random.Random(11), 2000) + "國務院辦公廳\u3000𠀀" + traditional[-50:]
    assert signatures.to_simplified(text) == text.translate(table)
    assert signatures.to_simplified("a\ud800b") == "a\ud800b"  # a lone surrogate is left alone
    assert signatures.to_simplified("") == ""


def test_prepare_signatures_builds_the_tables_before_the_first_article():
    for cached in (signatures._t2s_table, signatures._t2s_array, signatures._permutations, signatures._character_crc):
        cached.cache_clear()
    signatures.prepare_signatures()
    for cached in (signatures._t2s_table, signatures._t2s_array, signatures._permutations, signatures._character_crc):
        assert cached.cache_info().currsize == 1, cached.__name__
