"""What every command shares: the loaded settings (``App``) and the database (``open_store``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from govarchive.cli.output import Failure
from govarchive.settings import ConfigError, Settings, UnknownSourceError, load_settings


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


pass_app = click.make_pass_decorator(App)


@contextmanager
def open_store(settings: Settings) -> Iterator:
    """A ``storage.Store`` for the configured database, closed afterwards;
    storage errors end the command with ``error: ...`` and exit code 1."""
    from govarchive import storage

    try:
        store = storage.Store(settings.storage.url)
        try:
            yield store
        finally:
            store.close()
    except storage.StorageError as exc:
        raise Failure(f"error: {exc}", 1) from None
