"""The private-address guard (SSRF): names that resolve to private addresses, redirects to
them, and DNS answers that change between the check and the connection.

The crawls are real (``python -m govarchive crawl`` in a subprocess, against servers on
loopback ports); only name resolution is made up in that subprocess: ``HOSTS`` maps a
made-up name to the address the guard's lookup gets (``socket.getaddrinfo``) and the
address the connection's lookup gets (``socket.gethostbyname``, Scrapy's resolver), and
``PUBLIC`` names loopback addresses that count as public there (a stand-in for a government
site on the internet, since a test may use no other network).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest
from twisted.internet import defer
from twisted.python.failure import Failure

from govarchive.crawler.addresses import (
    PrivateAddressRefused,
    PrivateAddressResolver,
    is_public_address,
    refusal,
)
from tests.crawling import REPO, make_project

SECTION = """<html><head><meta charset="utf-8"><title>要闻</title></head><body>
<ul><li><a href="/art/1.html">通知</a></li></ul></body></html>"""

# Runs the CLI with made-up name resolution (see the module's docstring).
DRIVER = """
import json, os, socket, sys
hosts = json.loads(os.environ["TEST_HOSTS"])
public = set(json.loads(os.environ["TEST_PUBLIC"]))
real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
def getaddrinfo(host, *args, **kwargs):
    return real_getaddrinfo(hosts[host][0] if host in hosts else host, *args, **kwargs)
def gethostbyname(host):
    return hosts[host][1] if host in hosts else real_gethostbyname(host)
socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
from govarchive.crawler import addresses
really_public = addresses.is_public_address
addresses.is_public_address = lambda address: address in public or really_public(address)
from govarchive.cli import main
sys.argv = ["govarchive", *sys.argv[1:]]
main()
"""


class Site:
    """An HTTP server on ``address``: a section page, or a redirect to ``redirect_to``;
    remembers the paths asked for."""

    def __init__(self, address: str, redirect_to: str | None = None):
        self.requests: list[str] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                site.requests.append(self.path)
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.end_headers()
                elif redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                else:
                    body = SECTION.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pages(self) -> list[str]:
        return [p for p in self.requests if p != "/robots.txt"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def intranet():
    site = Site("127.0.0.1")
    yield site
    site.close()


def crawl(tmp_path, start_url: str, hosts: dict, public=(), allow_private=False):
    source = {"name": "govcn", "start_urls": [start_url], "schedule": "every 1h"}
    project = make_project(tmp_path, [source], crawl={"allow_private_addresses": allow_private})
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        env.pop(name, None)
    env.update(PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
               TEST_HOSTS=json.dumps(hosts), TEST_PUBLIC=json.dumps(list(public)))
    return subprocess.run([sys.executable, "-c", DRIVER, "--config", str(project.config),
                           "crawl", "govcn"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path, check=False)


@pytest.mark.slow
def test_a_name_resolving_to_loopback_is_refused(tmp_path, intranet):
    name = "intranet.example.gov.cn"
    result = crawl(tmp_path, f"http://{name}:{intranet.port}/index.htm",
                   {name: ["127.0.0.1", "127.0.0.1"]})
    assert result.returncode == 1, result.stderr
    assert (f"refused: {name} resolves to 127.0.0.1, a private address "
            "(allow_private_addresses = true in [crawl] allows it)") in result.stderr
    assert intranet.requests == []


@pytest.mark.slow
def test_a_name_resolving_to_loopback_is_fetched_when_allowed(tmp_path, intranet):
    name = "intranet.example.gov.cn"
    result = crawl(tmp_path, f"http://{name}:{intranet.port}/index.htm",
                   {name: ["127.0.0.1", "127.0.0.1"]}, allow_private=True)
    assert "refused" not in result.stderr
    assert intranet.pages() == ["/index.htm"]


@pytest.mark.slow
def test_a_redirect_to_a_private_address_is_refused(tmp_path, intranet):
    public_site = Site("127.0.0.2", redirect_to=f"http://127.0.0.1:{intranet.port}/secret.htm")
    try:
        name = "www.example.gov.cn"
        result = crawl(tmp_path, f"http://{name}:{public_site.port}/index.htm",
                       {name: ["127.0.0.2", "127.0.0.2"]}, public=["127.0.0.2"])
    finally:
        public_site.close()
    assert public_site.pages() == ["/index.htm"]        # the public hop was fetched
    assert "refused: 127.0.0.1 is a private address" in result.stderr
    assert intranet.requests == []                      # the redirect was not followed


@pytest.mark.slow
def test_a_dns_answer_that_turns_private_before_connecting_is_refused(tmp_path, intranet):
    """DNS rebinding: the guard's lookup sees a public address, the connection's a private
    one; no request reaches the private server."""
    name = "rebind.example.gov.cn"
    result = crawl(tmp_path, f"http://{name}:{intranet.port}/index.htm",
                   {name: ["93.184.216.34", "127.0.0.1"]})
    assert f"refused: {name} resolves to 127.0.0.1" in result.stderr
    assert intranet.requests == []
    assert result.returncode == 1


@pytest.mark.parametrize("address,public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fe80::1%eth0", False), ("fd00::1", False), ("::ffff:127.0.0.1", False),
    ("224.0.0.1", False), ("93.184.216.34", True), ("2606:2800:220:1::1", True),
])
def test_which_addresses_are_public(address, public):
    assert is_public_address(address) is public


@pytest.fixture
def resolver_answers(monkeypatch):
    from twisted.internet.base import ThreadedResolver

    answers = {"www.example.gov.cn": "93.184.216.34", "evil.example.com": "127.0.0.1"}
    monkeypatch.setattr(ThreadedResolver, "getHostByName",
                        lambda self, name, timeout=(): defer.succeed(answers[name]))
    return answers


def outcome(deferred):
    results = []
    deferred.addBoth(results.append)
    (result,) = results
    return result


def test_resolver_refuses_private_answers_unless_allowed(resolver_answers):
    from twisted.internet import reactor

    strict = PrivateAddressResolver(reactor, 0, 5.0)
    assert outcome(strict.getHostByName("www.example.gov.cn")) == "93.184.216.34"
    refused = outcome(strict.getHostByName("evil.example.com"))
    assert isinstance(refused, Failure) and refused.check(PrivateAddressRefused)
    assert refusal("evil.example.com", "127.0.0.1") in str(refused.value)
    lenient = PrivateAddressResolver(reactor, 0, 5.0, allow_private=True)
    assert outcome(lenient.getHostByName("evil.example.com")) == "127.0.0.1"


def test_the_crawl_connects_through_the_checking_resolver():
    from govarchive.crawler.run import scrapy_settings
    from govarchive.settings import Settings

    settings = scrapy_settings(Settings())
    assert settings["TWISTED_DNS_RESOLVER"] == (
        "govarchive.crawler.addresses.PrivateAddressResolver")
