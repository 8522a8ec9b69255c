"""Site rules: CSS (with ``:contains('下一页')``) or XPath, compiled once and checked early.

A rule that starts with ``/`` or ``(`` is XPath; anything else is CSS, translated to XPath
with parsel's translator (so ``::text`` and ``::attr(href)`` work too). The same
:class:`Rule` runs on an lxml element and on a parsel ``Selector``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cssselect import SelectorError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

_NAMESPACES = {"re": "http://exslt.org/regular-expressions"}
_translator = HTMLTranslator()


class RuleError(ValueError):
    """A site rule that is neither valid CSS nor valid XPath."""


@dataclass(frozen=True)
class Rule:
    source: str  # the rule as written in the config
    kind: str  # "css" or "xpath"
    expr: str  # the XPath actually evaluated
    _compiled: etree.XPath = field(repr=False, compare=False)

    def select(self, node) -> list:
        """Matches under ``node``: an lxml element (elements or strings) or a parsel Selector."""
        if hasattr(node, "xpath") and not isinstance(node, etree._Element):
            return node.xpath(self.expr, namespaces=_NAMESPACES)
        result = self._compiled(node)
        if isinstance(result, list):
            return result
        # XPath expressions such as count(...) or string(...) give one value
        return [] if result is None or result == "" else [result]

    def first(self, node):
        found = self.select(node)
        return found[0] if found else None


def _hint_css(rule: str, exc: Exception) -> str:
    if rule.lstrip().startswith(("./", "..", "@")):
        return "XPath rules must start with / or (, e.g. //div[@id='zoom']"
    if rule.count("[") != rule.count("]") or rule.count("(") != rule.count(")"):
        return "brackets are unbalanced"
    if ":contains(" in rule and ("'" not in rule and '"' not in rule):
        return "quote the text: a:contains('下一页')"
    return "write a CSS selector such as div.article p, or XPath starting with / or ("


def _hint_xpath(rule: str) -> str:
    if rule.count("[") != rule.count("]") or rule.count("(") != rule.count(")"):
        return "brackets are unbalanced"
    if rule.count("'") % 2 or rule.count('"') % 2:
        return "a quote is not closed"
    return "check the XPath syntax, e.g. //div[@class='content']//p or (//h1)[1]"


def compile_rule(rule: str) -> Rule:
    """Compile a CSS or XPath rule; raise RuleError saying how to fix a bad one."""
    if not isinstance(rule, str) or not rule.strip():
        raise RuleError("empty rule (give a CSS selector or an XPath starting with / or ()")
    text = rule.strip()
    if text.startswith(("/", "(")):
        kind, expr = "xpath", text
    else:
        kind = "css"
        try:
            expr = _translator.css_to_xpath(text)
        except (SelectorError, ValueError, NotImplementedError) as exc:
            raise RuleError(
                f"invalid CSS selector {text!r}: {exc} ({_hint_css(text, exc)})"
            ) from exc
    try:
        compiled = etree.XPath(expr, namespaces=_NAMESPACES)
    except etree.XPathError as exc:
        if kind == "css":
            raise RuleError(f"CSS selector {text!r} cannot be evaluated: {exc}") from exc
        raise RuleError(f"invalid XPath {text!r}: {exc} ({_hint_xpath(text)})") from exc
    return Rule(source=text, kind=kind, expr=expr, _compiled=compiled)
