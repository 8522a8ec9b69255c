"""Archived HTML shown in the UI's own origin: sanitised, because it is data, not markup.

An archived page was written by someone else (or by an attacker who put it on a government
site): its scripts, styles, event handlers and ``javascript:`` links must never run with the
UI's origin. ammonia (through ``nh3``) keeps a small set of formatting tags; everything else
is dropped with its content (script, style) or unwrapped to its text. Images are not shown
(they would load from the government site on every view, telling it who reads); a link to
them stays in the text of the archived page, and the capture itself is one click away in
replay, which runs on its own origin.
"""

from __future__ import annotations

import nh3
from markupsafe import Markup

# Formatting the extracted body uses; no img, no form controls, no frames, no style.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "div", "span", "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "b", "em", "i", "u", "s", "sub", "sup", "small", "mark", "del", "ins",
    "blockquote", "pre", "code", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "a",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Only links that leave for the web (never javascript:, data:, or the UI's own paths).
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Dropped together with what they contain, not unwrapped to their text.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe",
                                  "object", "embed", "svg", "math", "title", "textarea"})
LINK_REL = "noopener noreferrer nofollow"


def sanitised(html: str | None) -> Markup:
    """``html`` cut down to safe formatting, as Markup the templates insert as it is."""
    if not html:
        return Markup("")
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    # The one place the UI marks text as safe: ammonia has just made it so.
    return Markup(clean)  # noqa: S704
