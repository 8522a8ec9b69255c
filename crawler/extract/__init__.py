"""Article extraction for Chinese government pages: bytes in, an :class:`Article` out.

Public names: :func:`extract_article`, :func:`decode_html`, :class:`Article`,
:class:`Attachment`, :class:`Image`, :class:`NotHTMLError`.
"""

from __future__ import annotations

from .encoding import MAX_BYTES, decode_html
from .extractor import extract_article
from .model import Article, Attachment, Image, NotHTMLError

__all__ = ["MAX_BYTES", "Article", "Attachment", "Image", "NotHTMLError", "decode_html", "extract_article"]
