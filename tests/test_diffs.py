"""Token diffs and edit summaries (``storage.diffs``), and ``articles diff`` printing them."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from govarchive.storage import FIELD_LABELS, Store, token_diff
from govarchive.storage.diffs import SUMMARY_MAX_CHARS, diff_tokens, edit_summary
from tests.builders import T0, FakeCrawl
from tests.crawling import invoke


def test_numbers_words_and_chinese_numerals_are_whole_tokens():
    assert diff_tokens("共1,234.5元，2026-03-01起上调10%，OK吗") == [
        "共", "1,234.5", "元", "，", "2026-03-01", "起", "上", "调", "10%", "，", "OK", "吗"]
    assert diff_tokens("第三百二十五条两项") == ["第", "三百二十五", "条", "两", "项"]
    assert "".join(diff_tokens("a b\n\t二十")) == "a b\n\t二十"


def test_a_changed_number_is_one_token_change():
    assert token_diff("不超过二十分钟", "不超过十五分钟") == [
        ["equal", "不超过"], ["delete", "二十"], ["insert", "十五"], ["equal", "分钟"]]
    assert token_diff("补贴1,200元", "补贴1,500元") == [
        ["equal", "补贴"], ["delete", "1,200"], ["insert", "1,500"], ["equal", "元"]]
    assert token_diff("自2026-03-01起", "自2026-04-01起") == [
        ["equal", "自"], ["delete", "2026-03-01"], ["insert", "2026-04-01"], ["equal", "起"]]


def test_runs_of_one_kind_are_merged_and_texts_come_back_whole():
    ops = token_diff("通知", "通知（修订）")
    assert ops == [["equal", "通知"], ["insert", "（修订）"]]
    old = "各地区要加强组织领导，确保措施落到实处。"
    new = "各部门要加强统一领导，确保各项措施于2026年落到实处！"
    ops = token_diff(old, new)
    assert "".join(t for op, t in ops if op != "insert") == old
    assert "".join(t for op, t in ops if op != "delete") == new
    assert all(a[0] != b[0] for a, b in itertools.pairwise(ops))
    assert token_diff("", "") == [] and token_diff("", "新") == [["insert", "新"]]


def test_edit_summary_names_fields_in_chinese_with_their_first_change():
    old = {"title": "关于便民服务的通知", "body_text": "时限不超过二十分钟。"}
    new = {"title": "关于便民服务的通知（修订）", "body_text": "时限不超过十五分钟。"}
    assert edit_summary(old, new, ["title", "body_text"]) == (
        "标题: + （修订）; 正文: 二十 → 十五")
    assert edit_summary({"body_text": "甲。旧文字乙。"}, {"body_text": "甲。乙。"},
                        ["body_text"]) == "正文: − 旧文字"
    assert edit_summary({"body_text": "一二三"}, {"body_text": "一二三四"}, ["body_text"]) == (
        "正文: 一二三 → 一二三四")  # a numeral run is one token
    several = edit_summary({"body_text": "补贴1元，其余各项标准不变，另加2元"},
                           {"body_text": "补贴3元，其余各项标准不变，另加4元"}, ["body_text"])
    assert several == "正文: 1 → 3（共2处）"
    assert edit_summary({"author": None}, {"author": "张三"}, ["author"]) == "作者: + 张三"
    assert edit_summary({}, {}, []) is None


def test_edit_summary_is_bounded():
    long_old, long_new = "旧" * 300, "新" * 300
    one = edit_summary({"body_text": long_old}, {"body_text": long_new}, ["body_text"])
    assert one.startswith("正文: 旧") and "…" in one and len(one) < 100
    fields = {f: "甲" * 100 for f in FIELD_LABELS}
    changed = {f: "乙" * 100 for f in FIELD_LABELS}
    fields["attachments"] = [{"name": "附件一", "url": "https://example.org/a.pdf"}]
    changed["attachments"] = [{"name": "附件二", "url": "https://example.org/b.pdf"}]
    every = edit_summary(fields, changed, list(FIELD_LABELS))
    assert len(every) == SUMMARY_MAX_CHARS and every.endswith("…")


def test_the_web_shows_the_same_field_labels():
    from govarchive.web.pages import FIELD_LABELS as WEB_LABELS

    assert WEB_LABELS == FIELD_LABELS


@pytest.fixture
def project(tmp_path):
    config = tmp_path / "govarchive.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///govarchive.db"\n\n[archive]\ndir = "archive"\n',
        encoding="utf-8",
    )
    with Store(f"sqlite:///{tmp_path / 'govarchive.db'}") as store:
        store.migrate()
        crawl = FakeCrawl(store, source="govcn")
        url = "https://www.gov.cn/lianbo/difang/202603/content_1.htm"
        crawl.article(url, T0, title="通知", body_text="办理时限不超过二十分钟。")
        crawl.article(url, T0 + timedelta(hours=1), title="通知",
                      body_text="办理时限不超过十五分钟。")
    return config


def test_articles_diff_prints_a_changed_number_as_one_token(project):
    result = invoke(project, "articles", "diff", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "--- body_text", "办理时限不超过[-二十-]{+十五+}分钟。"]
