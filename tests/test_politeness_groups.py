"""Politeness groups (govarchive.politeness_groups): sources sharing a start host are one
group, crawled one at a time."""

from __future__ import annotations

from types import SimpleNamespace

from govarchive.politeness_groups import politeness_groups, start_hosts


def src(name: str, *urls: str):
    return SimpleNamespace(name=name, start_urls=urls)


def test_start_hosts_drop_port_and_case():
    assert start_hosts(["http://WWW.Gov.CN:8080/a/", "https://www.gov.cn/b/"]) == ["www.gov.cn"]


def test_sources_on_one_host_share_a_group_others_do_not():
    groups = politeness_groups([
        src("a", "http://127.0.0.2:8001/news/"),
        src("b", "http://127.0.0.2:8002/notices/"),
        src("c", "http://127.0.0.3:8001/news/"),
    ])
    assert groups == {"a": "127.0.0.2", "b": "127.0.0.2", "c": "127.0.0.3"}


def test_a_source_on_two_hosts_joins_their_groups_whatever_the_order():
    sources = [
        src("x", "https://b.example/"),
        src("y", "https://c.example/"),
        src("bridge", "https://c.example/list", "https://b.example/list"),
        src("alone", "https://d.example/"),
    ]
    expected = {"x": "b.example", "y": "b.example", "bridge": "b.example", "alone": "d.example"}
    assert politeness_groups(sources) == expected
    assert politeness_groups(list(reversed(sources))) == expected


def test_no_sources_no_groups():
    assert politeness_groups([]) == {}


def test_turns_start_one_source_per_group_and_at_most_at_once():
    from govarchive.politeness_groups import GroupTurns

    turns = GroupTurns([src("a1", "http://h1/"), src("a2", "http://h1/x"), src("b", "http://h2/"),
                        src("c", "http://h3/"), src("d", "http://h4/")], at_once=2)
    assert turns.ready() == ["a1", "b"]
    assert turns.ready() == []  # two crawling: no more
    turns.done("a1")
    assert turns.ready() == ["a2"]  # h1's next source, before the groups still waiting
    turns.done("b")
    assert turns.ready() == ["c"]
    assert turns.waiting() == ["d"]
    turns.done("a2")
    turns.done("c")
    assert turns.ready() == ["d"]
    turns.done("d")
    assert turns.ready() == [] and turns.waiting() == []


def test_turns_start_the_groups_with_most_waiting_first():
    from govarchive.politeness_groups import GroupTurns

    # One host with three sources, two with one each: the big group is not left for last.
    turns = GroupTurns([src("b", "http://h2/"), src("c", "http://h3/"), src("a1", "http://h1/"),
                        src("a2", "http://h1/x"), src("a3", "http://h1/y")], at_once=1)
    order = []
    while name := (turns.ready() or [None])[0]:
        order.append(name)
        turns.done(name)
    assert order == ["a1", "a2", "b", "c", "a3"]
