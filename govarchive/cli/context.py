"""What every command shares: the loaded settings (``App``) and the database (``open_store``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from govarchive.cli.output import Failure
from govarchive.settings import ConfigError, Settings, UnknownSourceError, load_settings
from govarchive.times import DEFAULT_TIMEZONE


class App:
    """What the global options decide; settings are loaded on first use, so ``extract``
    works without a config file."""

    def __init__(self, config: Path | None, verbose: int):
        self.config, self.verbose = config, verbose
        self._settings: Settings | None = None
        self.log_handler: logging.Handler | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config)
            except ConfigError as exc:
                raise Failure(str(exc), 2) from None
        return self._settings

    def source(self, name: str):
        try:
            return self.settings.source(name)
        except UnknownSourceError as exc:
            raise Failure(f"error: {exc}", 2) from None

    def check_source(self, store, name: str | None) -> None:
        """A ``--source`` filter must name a source the configuration or the database knows
        (a source removed from the config keeps its archived articles)."""
        if name is None:
            return
        configured = [s.name for s in self.settings.sources]
        stored = [s["name"] for s in store.list_sources()]
        if name in configured or name in stored:
            return
        known = sorted(set(configured) | set(stored))
        listed = ", ".join(known) if known else "none are configured or stored"
        raise Failure(f'error: unknown source "{name}" (known sources: {listed})', 2)

    def timezone(self, name: str | None) -> str:
        """How dates given for a source are read: its timezone, else the default."""
        for source in self.settings.sources if name else ():
            if source.name == name:
                return source.timezone
        return DEFAULT_TIMEZONE


pass_app = click.make_pass_decorator(App)


@contextmanager
def open_store(settings: Settings, *, create: bool = False) -> Iterator:
    """A ``storage.Store`` for the configured database, closed afterwards; storage errors end
    the command with ``error: ...`` and exit code 1. Only commands that write (``create``)
    may bring a SQLite file into being: a read with a wrong path says so instead of leaving
    an empty database behind."""
    from govarchive import storage

    database_file = settings.storage.sqlite_path
    if not create and database_file is not None and not database_file.exists():
        raise Failure(
            f"error: no database at {database_file}: run `govarchive init` first "
            "(or check [storage] url)", 1
        )
    try:
        store = storage.Store(settings.storage.url)
        try:
            yield store
        finally:
            store.close()
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None
