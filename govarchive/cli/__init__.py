"""The ``govarchive`` command line: messages to stderr, data to stdout.

Exit codes: 0 done, 1 the work failed, 2 bad usage or bad configuration. Each command lives in
a module of this package by topic; this module makes the root group and registers them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from govarchive import __version__
from govarchive.cli import (
    archive,
    articles,
    changes,
    crawl,
    export,
    notify,
    search,
    serve,
    sources,
    web,
    worker,
)
from govarchive.cli.context import App


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $GOVARCHIVE_CONFIG, else ./govarchive.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(__version__, prog_name="govarchive")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int) -> None:
    """Archive government news sections: crawl, keep every response as WARC, track changes."""
    ctx.obj = App(config, verbose)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    if not root.handlers:  # an embedding program (or pytest) may have set up logging already
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        ctx.call_on_close(lambda: root.removeHandler(handler))
        ctx.obj.log_handler = handler


for command in (
    crawl.init,
    sources.sources,
    crawl.crawl,
    crawl.extract,
    export.export,
    export.runs,
    changes.changes,
    serve.serve,
    worker.worker,
    notify.notify,
    archive.warc,
    archive.replay,
    articles.articles,
    web.web,
):
    cli.add_command(command)
articles.articles.add_command(search.search)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="govarchive")
