"""Site rules: CSS or XPath, checked with a hint, usable on lxml and on parsel."""

from __future__ import annotations

import lxml.html
import parsel
import pytest

from govarchive.crawler.selectors import RuleError, compile_rule

HTML = (
    "<html><body><ul class='list'><li><a href='/a/1.html'>第一篇</a></li><li><a href='/a/2.html'>第二篇</a></li></ul>"
    "<div class='page'><a href='index_1.html'>下一页</a><a href='index_9.html'>尾页</a></div></body></html>"
)


def test_css_with_contains_on_lxml_and_parsel():
    rule = compile_rule("a:contains('下一页')")
    assert rule.kind == "css" and rule.expr.startswith("descendant-or-self::")
    found = rule.select(lxml.html.fromstring(HTML))
    assert [a.get("href") for a in found] == ["index_1.html"]
    assert rule.select(parsel.Selector(text=HTML)).attrib["href"] == "index_1.html"


def test_css_pseudo_elements_give_strings():
    rule = compile_rule("ul.list li a::attr(href)")
    assert rule.select(lxml.html.fromstring(HTML)) == ["/a/1.html", "/a/2.html"]
    assert rule.select(parsel.Selector(text=HTML)).getall() == ["/a/1.html", "/a/2.html"]


@pytest.mark.parametrize(
    "text", ["//ul[@class='list']//a", "(//a)[1]", "//a[re:test(@href, '\\d+\\.html$')]"]
)
def test_xpath(text):
    rule = compile_rule(text)
    assert rule.kind == "xpath" and rule.expr == text
    assert rule.select(lxml.html.fromstring(HTML))
    assert rule.select(parsel.Selector(text=HTML))


def test_xpath_value_results():
    assert compile_rule("(count(//a))").select(lxml.html.fromstring(HTML)) == [4.0]


@pytest.mark.parametrize(
    "text, hint",
    [
        ("", "empty rule"),
        ("   ", "empty rule"),
        ("div[", "brackets are unbalanced"),
        ("//div[@id='zoom'", "brackets are unbalanced"),
        ("//div[@id='zoom]", "quote is not closed"),
        ("./div", "must start with / or ("),
        ("a:contains(下一页", "brackets are unbalanced"),
        ("div >> p", "CSS selector"),
        ("//div[@@id]", "XPath syntax"),
    ],
)
def test_bad_rules_raise_with_a_hint(text, hint):
    with pytest.raises(RuleError) as info:
        compile_rule(text)
    assert hint in str(info.value)
    assert isinstance(info.value, ValueError)
