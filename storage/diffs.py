"""Differences between two texts in whole tokens, and the one-line summary of an edit.

Journalists look for changed numbers, amounts and dates first, so a number or a word is one
token: ``不超过二十分钟 → 不超过十五分钟`` is ``[-二十-]{+十五+}``, never ``[-二-]{+十五+}…``.
A token is a run of Arabic digits with its separators (``1,234.5``, ``2026-03-01``, ``10%``),
a run of Chinese numerals, a run of Latin letters; any other character (a Chinese character,
a punctuation mark, a space) is a token of its own, since Chinese has no spaces between words.
"""

from __future__ import annotations

import re
from typing import Any

from diff_match_patch import diff_match_patch

DIFF_TIMEOUT_SECONDS = 2.0
# The Chinese names of the fields that make a version (storage.content.HASHED_FIELDS), as the
# web UI and change summaries show them.
FIELD_LABELS = {
    "title": "标题", "published_at": "发布时间", "origin": "来源", "author": "作者",
    "doc_number": "发文字号", "body_text": "正文", "attachments": "附件",
}
SUMMARY_MAX_CHARS = 200
SIDE_MAX_CHARS = 40  # of each side of a change in a summary

_TOKEN = re.compile(
    r"\d+(?:[,.:/\-]\d+)*%?"  # 1,234.5  2026-03-01  08:00  10%
    r"|[零〇一二三四五六七八九十百千万亿两]+"
    r"|[A-Za-z]+"
    r"|.",
    re.DOTALL,
)
_OPS = {-1: "delete", 0: "equal", 1: "insert"}
_SURROGATES = range(0xD800, 0xE000)


def diff_tokens(text: str) -> list[str]:
    """``text`` cut into diff tokens (see the module doc); joined they give ``text`` back."""
    return _TOKEN.findall(text)


def _encode(tokens: list[str], codes: dict[str, str]) -> str:
    """Each token as one character, as diff-match-patch's line mode does with lines."""
    out = []
    for token in tokens:
        code = codes.get(token)
        if code is None:
            n = len(codes) + 1
            if n >= _SURROGATES.start:
                n += len(_SURROGATES)
            code = codes[token] = chr(n)
        out.append(code)
    return "".join(out)


def token_diff(old: str, new: str) -> list[list[str]]:
    """``[[op, text], ...]`` with op ``equal``/``delete``/``insert``: whole tokens changed,
    adjacent runs of one kind merged, and in each changed stretch the deletion first."""
    codes: dict[str, str] = {}
    old_codes, new_codes = _encode(diff_tokens(old), codes), _encode(diff_tokens(new), codes)
    tokens = {code: token for token, code in codes.items()}
    engine = diff_match_patch()
    engine.Diff_Timeout = DIFF_TIMEOUT_SECONDS
    diffs = engine.diff_main(old_codes, new_codes, False)
    engine.diff_cleanupSemantic(diffs)  # readable runs: no one-token islands between edits
    merged: list[list[str]] = []
    for op, coded in diffs:
        text = "".join(tokens[c] for c in coded)
        if not text:
            continue
        kind = _OPS[op]
        # Put a stretch's deletions before its insertions, whatever order they came in.
        at = len(merged)
        while kind == "delete" and at and merged[at - 1][0] == "insert":
            at -= 1
        if at and merged[at - 1][0] == kind:
            merged[at - 1][1] += text
        else:
            merged.insert(at, [kind, text])
    return merged


def field_text(field: str, value: Any) -> str:
    """A stored field's value as the text its diff compares."""
    if value is None:
        return ""
    if field == "attachments":
        return "\n".join(f"{a.get('name') or ''} <{a.get('url') or ''}>" for a in value)
    return str(value)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SIDE_MAX_CHARS else text[: SIDE_MAX_CHARS - 1] + "…"


def change_summary(ops: list[list[str]]) -> str | None:
    """The first changed stretch of a diff: ``二十 → 十五``, ``+ 特此通知``, ``− 旧文字``;
    ``（共N处）`` when there are more. None when nothing changed."""
    stretches: list[tuple[str, str]] = []
    deleted = inserted = ""
    for op, text in [*ops, ["equal", ""]]:
        if op == "delete":
            deleted += text
        elif op == "insert":
            inserted += text
        elif deleted or inserted:
            stretches.append((deleted, inserted))
            deleted = inserted = ""
    if not stretches:
        return None
    deleted, inserted = stretches[0]
    if deleted and inserted:
        text = f"{_cut(deleted)} → {_cut(inserted)}"
    elif inserted:
        text = f"+ {_cut(inserted)}"
    else:
        text = f"− {_cut(deleted)}"
    return text + (f"（共{len(stretches)}处）" if len(stretches) > 1 else "")


def edit_summary(old: dict[str, Any], new: dict[str, Any], changed: list[str]) -> str | None:
    """``标题: A → B; 正文: 二十 → 十五``: each changed field by its Chinese label with its first
    change, at most ``SUMMARY_MAX_CHARS`` long. ``old``/``new``: the two versions' fields
    (normalised, so layout whitespace and page chrome do not show)."""
    parts = []
    for field in changed:
        label = FIELD_LABELS.get(field, field)
        what = change_summary(token_diff(field_text(field, old.get(field)),
                                         field_text(field, new.get(field))))
        parts.append(f"{label}: {what}" if what else label)
    if not parts:
        return None
    summary = "; ".join(parts)
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1] + "…"
    return summary
