"""Bytes to text: which codec a Chinese government page is really in.

Order of evidence: byte-order mark, the HTTP charset, the page's own <meta> charset, then
detection. A declared charset is only believed if it decodes the page (nearly) cleanly,
because old CMSs often declare gb2312 for pages that were re-saved as UTF-8.
"""

from __future__ import annotations

import codecs
import re

from .model import NotHTMLError

MAX_BYTES = 5 * 1024 * 1024  # pages beyond this are cut and marked truncated

# Legacy labels are read with their supersets: gb2312/gbk pages routinely use GBK or
# GB18030-only characters, and Big5 pages use the Microsoft (cp950) or HKSCS extensions.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "hz": "gb18030",
    "big5": "cp950",
    "cp950": "cp950",
    "big5hkscs": "big5hkscs",
}
# Labels that say nothing about Chinese text: Windows-1252 decodes every byte, so it
# can never be "verified" and is treated as no declaration at all.
_WEAK = {"latin_1", "iso8859-1", "cp1252", "ascii"}

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,30})""", re.IGNORECASE
)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
    b"Rar!",
    b"\x1f\x8b",
    b"BM",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",
    b"7z\xbc\xaf",
)
_SAMPLE = 400_000  # bytes looked at to choose a codec
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HTML_TYPES = ("html", "xhtml")
_SNIFF_TYPES = (
    "application/octet-stream",
    "binary/octet-stream",
    "text/plain",
    "application/unknown",
)
_HTML_HINT = re.compile(
    rb"<\s*(!doctype|html|head|body|meta|title|div|p|table|script|a)\b", re.IGNORECASE
)


def codec_for(label: str | None) -> str | None:
    """The Python codec to read a declared charset with, or None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("'\"").lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def check_html(body: bytes, content_type: str | None) -> None:
    """Raise NotHTMLError unless the bytes may be an HTML page."""
    head = body[:2048].lstrip()
    if not head.strip(b"\x00 \t\r\n\xef\xbb\xbf"):
        raise NotHTMLError("empty body")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and not any(t in mime for t in _HTML_TYPES) and mime not in _SNIFF_TYPES:
        raise NotHTMLError(f"content type {mime!r} is not HTML")
    if head.startswith(_BINARY_MAGIC):
        raise NotHTMLError("binary file signature (PDF, image, archive or office document)")
    if _is_binary(body[:65536]):
        raise NotHTMLError("binary data (control bytes no text has)")
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"{", b"[") and not _HTML_HINT.search(body[:4096]):
        raise NotHTMLError("JSON, not HTML")
    if (
        (not mime or mime in _SNIFF_TYPES)
        and not _HTML_HINT.search(body[:65536])
        and b"<" not in body[:65536]
    ):
        raise NotHTMLError("no markup in the first 64 KiB")


def _is_binary(sample: bytes) -> bool:
    # A text page in any of our codecs has next to no C0 control bytes; random bytes are
    # one-eighth controls. UTF-16 and UTF-32 (NUL-full, and CJK code units often end in a
    # control byte) are read by decode_html, so a NUL-full sample is left to it.
    if not sample or sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if sample[:512].count(0) > 32:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES[1:]))
    return controls > len(sample) // 20


def _error_ratio(data: bytes, codec: str, decoded: dict | None = None) -> float:
    """Share of characters that fail to decode (0.0 means clean).

    A character cut in two at the very end (a capped page, a sample) does not count. A clean
    decode is kept in ``decoded`` so the page is not decoded twice.
    """
    try:
        text = codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except UnicodeError:  # UTF-16 without a BOM raises the base class
        text = data.decode(codec, errors="replace")
        return text.count("\ufffd") / max(1, len(text))
    if decoded is not None:
        decoded[codec] = text
    return 0.0


def _verified(body: bytes, codec: str | None, decoded: dict | None) -> bool:
    if not codec or codec in _WEAK:
        return False
    # A handful of broken bytes in an otherwise GBK page is damage, not a wrong declaration.
    return _error_ratio(body, codec, decoded) < 0.002


# Frequent characters of Simplified and Traditional running text. GBK and Big5 share
# their byte ranges, so either codec decodes the other's bytes "cleanly" into nonsense;
# real text is dense in these characters, mojibake is not.
_COMMON = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作"
    "里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心本前开但因只从想"
    "实日者意无力与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体政相"
    "見這們來個國為說時會對後過於與將還當發現學經無長開門問點體機從動種麼樣實際經濟區員關係"
)


# A character class, scanned in C: str.translate with a deletion table does a dict lookup
# per character.
_COMMON_CHAR = re.compile(f"[{''.join(sorted(_COMMON))}]")
# U+4E00..U+9FFF, the CJK unified ideographs, are the UTF-16 code units whose high byte is
# 0x4E..0x9F (surrogates are 0xD8..0xDF): counting those bytes is done in C at memory speed.
_HAN_HIGH_BYTES = bytes(range(0x4E, 0xA0))


def _han_count(text: str) -> int:
    high = text.encode("utf-16-be", "surrogatepass")[::2]
    return len(high) - len(high.translate(None, _HAN_HIGH_BYTES))


def _common_share(body: bytes, codec: str) -> float:
    text = body[:60_000].decode(codec, errors="replace")
    return len(_COMMON_CHAR.findall(text)) / max(1, _han_count(text))


def _detect(body: bytes, decoded: dict | None) -> str:
    if _error_ratio(body, "utf-8", decoded) == 0.0:
        return "utf-8"
    # Non-UTF-8 bytes on a Chinese site are far more often GBK or Big5 than anything Western.
    clean = [c for c in ("gb18030", "cp950") if _error_ratio(body, c) < 0.002]
    if clean:
        return max(clean, key=lambda c: _common_share(body, c))
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    codec = codec_for(best.encoding) if best is not None else None
    return codec if codec and codec not in _WEAK else "gb18030"


def choose_codec(body: bytes, content_type: str | None = None, decoded: dict | None = None) -> str:
    """The codec to read ``body`` with; clean full decodes made on the way land in ``decoded``."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    declared: list[str | None] = []
    if content_type:
        m = _HTTP_CHARSET.search(content_type)
        declared.append(codec_for(m.group(1)) if m else None)
    m = _META_CHARSET.search(body[:16384])
    declared.append(codec_for(m.group(1).decode("ascii", "replace")) if m else None)
    for codec in declared:
        if _verified(body, codec, decoded):
            return codec
    if (
        any(c in ("cp950", "big5hkscs") for c in declared)
        and _error_ratio(body, "big5hkscs") < 0.01
    ):
        return "big5hkscs"
    # detection looks at a sample; its decodes stand for the page only if it is the page
    if len(body) <= _SAMPLE:
        return _detect(body, decoded)
    return _detect(body[:_SAMPLE], None)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode page bytes: (text, codec). Broken bytes become U+FFFD; never raises on them."""
    if isinstance(body, str):
        raise TypeError("decode_html takes the response bytes, not text")
    # Control bytes are never part of a multibyte character in UTF-8, GBK or Big5, and lxml
    # refuses them in any text it is later asked to set: drop them before decoding, unless
    # the page is UTF-16/32, where NUL bytes are half of every ASCII character.
    wide = body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or body[:512].count(0) > 32
    if not wide:
        body = body.translate(None, _CONTROL_BYTES)
    decoded: dict[str, str] = {}
    codec = choose_codec(body, content_type, decoded)
    text = decoded.get(codec)
    if text is None:
        text = body.decode(codec, errors="replace")
    if wide:
        text = _CONTROL.sub("", text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")
    text = text.removeprefix("\ufeff")
    return text, codec
