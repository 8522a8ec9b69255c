"""Politeness groups (scheduler.groups): sources sharing a start host are one group."""

from __future__ import annotations

from types import SimpleNamespace

from govarchive.scheduler.groups import politeness_groups, start_hosts


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
