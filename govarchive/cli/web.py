"""``govarchive web``: the query UI and JSON API (uvicorn serving ``govarchive.web``)."""

from __future__ import annotations

import ipaddress

import click

from govarchive.cli.context import App, open_store, pass_app


def exposure_warning(what: str, host: str, port: int) -> str | None:
    """The warning to print when ``what`` listens on more than this machine's loopback:
    neither the UI nor replay asks who is reading."""
    try:
        local = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        local = host == "localhost"
    if local:
        return None
    return (f"warning: {what} is unauthenticated; anyone who can reach {host}:{port} can read "
            "the archive (keep the default 127.0.0.1 behind a reverse proxy that checks users)")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the UI is read-only, but keep it local unless proxied).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--replay-url", envvar="GOVARCHIVE_WEB_REPLAY_URL", metavar="TEMPLATE",
              default="http://127.0.0.1:8080/{collection}/{timestamp}/{url}", show_default=True,
              help="Where captures are replayed (pywb: `govarchive replay serve`).")
@pass_app
def web(app: App, host: str, port: int, replay_url: str) -> None:
    """Serve the search pages and the JSON API (/api/..., schema at /docs) until stopped."""
    import uvicorn

    from govarchive.web import WebConfig, create_app

    settings = app.settings
    config = WebConfig(collection=settings.archive.collection, replay_url=replay_url,
                       base_url=settings.web.base_url)
    with open_store(settings) as store:
        store.list_sources()  # fails now, with the usual message, if the database is not ready
        click.echo(f"serving http://{host}:{port}/ (Ctrl-C stops)", err=True)
        warning = exposure_warning("the web UI", host, port)
        if warning:
            click.echo(warning, err=True)
        uvicorn.run(create_app(store, config), host=host, port=port, log_level="warning")
