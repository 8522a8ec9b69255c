"""``govarchive notify``: deliver change events to the ``[[watches]]`` (for cron), or list
what is still owed."""

from __future__ import annotations

import json

import click

from govarchive.cli.context import App, open_store, pass_app
from govarchive.cli.output import Failure, format_table
from govarchive.times import local_text


@click.command()
@click.option("--once", is_flag=True,
              help="Fan out new change events to the watches, deliver what is due, and exit "
              "(1 when a delivery failed and waits for a retry).")
@click.option("--status", is_flag=True,
              help="List the deliveries still pending (undelivered), with their events, "
              "attempts and last error.")
@click.option("--watch", "watch_name", metavar="NAME", help="With --status: only this watch.")
@click.option("--json", "as_json", is_flag=True,
              help="With --status: one JSON object a line (the delivery, its event inside).")
@pass_app
def notify(app: App, once: bool, status: bool, watch_name: str | None, as_json: bool) -> None:
    """Deliver change events to the configured [[watches]], or show what is undelivered.

    `govarchive serve` delivers by itself; run `notify --once` from cron when you do not
    run the service (not both at once: the same message could go out twice).
    """
    if once == status:
        raise click.UsageError("give one of --once or --status")
    if status:
        return show_pending(app, watch_name, as_json)
    if not app.settings.watches:
        click.echo("no [[watches]] are configured: nothing to deliver", err=True)
        return
    from govarchive.notify import deliver_due

    with open_store(app.settings) as store:
        report = deliver_due(app.settings, store)
    click.echo(f"{report.fanned_out} new change event(s); {report.messages} message(s) sent "
               f"for {report.delivered} delivery(ies)", err=True)
    if report.failures:
        lines = [f"error: watch {name}: {error} (pending; retried later)"
                 for name, error in report.failures]
        raise Failure("\n".join(lines), 1)


def show_pending(app: App, watch_name: str | None, as_json: bool) -> None:
    with open_store(app.settings) as store:
        pending = store.deliveries.pending(watch_name)
    if as_json:
        for delivery in pending:
            click.echo(json.dumps(delivery, ensure_ascii=False))
        return
    if not pending:
        click.echo("no undelivered change events", err=True)
        return
    header = ("watch", "event", "kind", "title", "attempts", "next attempt", "last error")
    rows = [(d["watch"], str(d["event"]["id"]), d["event"]["kind"], d["event"]["title"] or "",
             str(d["attempts"]), local_text(d["next_attempt_at"]), d["last_error"] or "")
            for d in pending]
    click.echo(format_table([header, *rows]))
