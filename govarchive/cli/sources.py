"""``govarchive sources``: list the configured sources; ``sources probe``: try a section first."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

import click

from govarchive.cli.context import App, pass_app
from govarchive.cli.output import Failure, format_table

# Further list requests printed in the text report; --json gives them all.
SHOWN_LIST_REQUESTS = 3


@click.group(invoke_without_command=True)
@click.option("--check", is_flag=True, help="Validate every source's rules; fetches nothing.")
@click.pass_context
def sources(ctx: click.Context, check: bool) -> None:
    """List the configured sources (or, with a subcommand, probe a new one)."""
    if ctx.invoked_subcommand is not None:
        if check:
            raise click.UsageError("--check lists sources: give it without a subcommand")
        return
    app = ctx.find_object(App)
    configured = app.settings.sources
    rows = [("NAME", "TITLE", "SCHEDULE", "START URLS")]
    for source in configured:
        rows.append(
            (
                source.name,
                source.title,
                source.schedule or "(on demand)",
                " ".join(source.start_urls),
            )
        )
    click.echo(format_table(rows))
    if not configured:
        click.echo(f"no sources in {app.settings.config_path}: add a [[sources]] table", err=True)
    if check:
        # load_settings compiled every rule already; report what each source relies on.
        for source in configured:
            rules = source.rules.model_dump(exclude_none=True)
            detail = ", ".join(rules) if rules else "none (found automatically)"
            click.echo(f"ok {source.name}: rules {detail}", err=True)


@sources.command()
@click.argument("target", metavar="URL|FILE")
@click.option("--url", "page_url", metavar="URL",
              help="With a saved page FILE: the address it was saved from (links are resolved "
              "against it). Nothing is fetched.")
@click.option("--articles", "article_count", type=click.IntRange(min=0), default=3,
              show_default=True, help="Live: fetch and extract this many of the list's articles.")
@click.option("--article-links", "article_links", metavar="SELECTOR",
              help="Try this rules.article_links selector (CSS, or XPath starting with /).")
@click.option("--next-page", "next_page", metavar="SELECTOR",
              help="Try this rules.next_page selector.")
@click.option("--content-type", metavar="TYPE",
              help="With FILE: the Content-Type it was served with (its charset counts; "
              "default: application/json for a .json file, application/javascript for "
              "a .js or .jsonp file (a JSONP answer), else none).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def probe(app: App, target: str, page_url: str | None, article_count: int,
          article_links: str | None, next_page: str | None, content_type: str | None,
          as_json: bool) -> None:
    """Show what the crawl finds on a section page before you add it as a source.

    URL: fetch it live (politely: robots.txt, the configured user agent and delay) and its
    first --articles articles; FILE --url URL: read a saved list page, fetch nothing. Reports
    the CMS family, the charset, the article links, the further list requests, robots.txt's
    and the anti-bot verdict, and a [[sources]] block to paste. Nothing is written to the
    archive or the database. Exit code 1 when no article link was found."""
    rules = {k: v for k, v in (("article_links", article_links), ("next_page", next_page)) if v}
    if rules:
        from govarchive.crawler.selectors import RuleError, compile_rule

        for name, rule in rules.items():
            try:
                compile_rule(rule)
            except RuleError as exc:
                raise click.BadParameter(f"invalid selector {rule!r}: {exc}",
                                         param_hint=f"--{name.replace('_', '-')}") from None
    live = page_url is None
    if live:
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).hostname:
            hint = (" (a saved page needs --url, the address it was saved from)"
                    if Path(target).exists() else "")
            raise click.UsageError(f"{target!r} is not an http(s) URL{hint}")
        report = _probe_live(app, target, article_count, rules)
    else:
        if urlsplit(page_url).scheme not in ("http", "https"):
            raise click.BadParameter(f"{page_url!r} is not an http(s) URL", param_hint="--url")
        try:
            body = Path(target).read_bytes()
        except OSError as exc:
            raise Failure(f"error: cannot read {target}: {exc.strerror}", 2) from None
        from govarchive.crawler.probe import probe_list_page

        if content_type is None:  # a saved list feed, or a JSONP answer
            content_type = SAVED_FEED_TYPES.get(Path(target).suffix.lower())
        report = probe_list_page(body, page_url, content_type=content_type, rules=rules)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report_text(report))
    listing = report.listing  # the page that holds the list, when the section's page led on
    if listing.error:
        click.echo(f"error: {listing.url}: {listing.error}", err=True)
    hint = report.hint()
    if hint:
        click.echo(f"hint: {hint}", err=True)
    if not report.walkable:
        click.get_current_context().exit(1)


def _probe_live(app: App, url: str, article_count: int, rules: dict):
    from govarchive.crawler.probe_fetch import run_probe
    from govarchive.crawler.run import scrapy_settings

    settings = app.settings
    if app.log_handler is not None:
        # Scrapy installs its own root handler; ours as well would print every line twice.
        logging.getLogger().removeHandler(app.log_handler)
    return run_probe(scrapy_settings(settings, verbose=app.verbose > 0), url,
                     articles=article_count, rules=rules, verbose=app.verbose > 0)


# What a saved answer's file name says it was served as (--content-type says otherwise).
SAVED_FEED_TYPES = {".json": "application/json", ".js": "application/javascript",
                    ".jsonp": "application/javascript"}


def report_text(report) -> str:
    """The probe's report as a person reads it."""
    lines = _page_lines(report)
    robots = report.robots
    verdict = {True: "allowed", False: "DISALLOWED", None: "-"}[robots.get("allowed")]
    lines.insert(_after_charset(lines), f"robots.txt: {verdict} ({robots.get('detail')})")
    page = report
    while page.followed is not None:
        lead = page.followed_by
        body = f"  body: {lead.body}" if lead.body else ""
        hub = (f" (the first of {len(page.section_links)} sub-columns, each walked as a "
               "section of its own)" if page.section_links else "")
        lines += ["", f"followed, as the crawl does{hub}: {lead.method} {lead.url}{body}"]
        page = page.followed
        lines += ["  " + line for line in _page_lines(page)]
    if report.articles is not None:
        lines.append(f"articles fetched: {len(report.articles)}")
        for record in report.articles:
            lines.extend(_article_lines(record))
    from govarchive.crawler.probe import source_block

    lines.append("")
    lines.append("# paste into govarchive.toml:")
    lines.append(source_block(report))
    return "\n".join(lines)


def _after_charset(lines: list[str]) -> int:
    return next(n for n, line in enumerate(lines) if line.startswith("anti-bot:"))


def _page_lines(report) -> list[str]:
    """What the probe found on one page: the section's own, or one it led to."""
    lines = []
    moved = report.requested_url and report.requested_url != report.url
    status = f" (HTTP {report.status})" if report.status else ""
    lines.append(f"page: {report.url}{status}"
                 + (f", redirected from {report.requested_url}" if moved else ""))
    if report.title:
        lines.append(f"title: {report.title}")
    evidence = "; ".join(report.family_evidence) or "no marker of a known CMS"
    lines.append(f"family: {report.family} ({evidence})")
    if report.charset:
        lines.append(f"charset: {report.charset} ({report.charset_reason})")
    lines.append(f"anti-bot: {'BLOCKED: ' + report.blocked if report.blocked else 'no wall seen'}")
    if report.not_html:
        lines.append(f"not HTML: {report.not_html}" + (" (a JSON list answer, read as a feed)"
                                                       if report.json_feed else ""))
    if report.redirect_to:
        lines.append(f"script redirect to: {report.redirect_to}")
    if report.framed_list:
        lines.append(f"list shown in a frame: {report.framed_list}")
    for link in report.section_links:
        lines.append(f"section link: {link}")
    lines.append(f"article links: {len(report.links)}")
    width = len(str(len(report.links)))
    for n, link in enumerate(report.links, 1):
        lines.append(f"  {n:>{width}}. {link.date or '-':10}  {link.title or '-'}")
        lines.append(f"  {'':>{width}}  {link.url}")
    requests = report.list_requests
    lines.append(f"more of the list: {len(requests)} further request(s)"
                 + (", the next first:" if requests else " (the list has one page)"))
    for request in requests[:SHOWN_LIST_REQUESTS]:
        body = f"  body: {request.body}" if request.body else ""
        lines.append(f"  {request.method} {request.url}{body}")
    if len(requests) > SHOWN_LIST_REQUESTS:
        lines.append(f"  ... and {len(requests) - SHOWN_LIST_REQUESTS} more (--json lists all)")
    return lines


def _article_lines(record: dict) -> list[str]:
    lines = [f"  {record['url']}"]
    if record.get("error"):
        lines.append(f"    error: {record['error']}")
        if "title" not in record:
            return lines
    attachments = record.get("attachments") or []
    names = ", ".join(a["name"] or a["url"] for a in attachments)
    lines += [
        f"    title: {record.get('title') or '-'}",
        f"    published: {record.get('published_at') or '-'}",
        f"    来源: {record.get('origin') or '-'}",
        f"    author: {record.get('author') or '-'}",
        f"    attachments: {len(attachments)}" + (f" ({names})" if names else ""),
        f"    body: {record.get('body_length', 0)} characters",
    ]
    return lines
