"""Opening the database: engines with the right per-connection settings, migrations, and
errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from govarchive.storage.types import StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for another process's write lock, unless the URL's
# ``timeout`` (seconds, pysqlite's own parameter: ``sqlite:///db?timeout=5``) says otherwise.
SQLITE_BUSY_TIMEOUT = 30.0
# How long a PostgreSQL write keeps reconnecting after the server went away (a restart, a
# terminated backend) before it gives up.
RECONNECT_SECONDS = 60.0
# SQLite caps it at 2 GB by default; address space only, pages come in as they are read.
SQLITE_MMAP_BYTES = 2**31 - 2**16
# Execution option marking a connection whose transaction will write: on SQLite it takes
# the write lock at BEGIN, so two writers queue instead of failing on lock upgrade.
WRITE_OPTION = "govarchive_write"


def display_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(
            f"invalid database URL {url!r}: {exc} "
            "(use sqlite:///path/to.db or postgresql+psycopg://user@host/db)"
        ) from None


def create_engine(url: URL) -> Engine:
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(
            f"unsupported database URL {display_url(url)}: "
            "use sqlite:///path/to.db or postgresql+psycopg://user@host/db"
        )
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.drivername == "postgresql":
        # psycopg 3 is the supported driver; a bare postgresql:// URL would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        raise StorageError(
            f"cannot open database {display_url(url)}: the driver is not installed ({exc}); "
            "install govarchive[postgres] (psycopg 3)"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the folder {folder} for database {display_url(url)}: "
                f"{exc.strerror or exc} (check [storage] url in govarchive.toml)"
            ) from None
    busy_timeout = sqlite_busy_timeout(url)
    # One shared connection for in-memory databases, or every connection sees an empty one.
    engine = sa.create_engine(url, poolclass=StaticPool) if in_memory else sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # The sqlite3 module's own transaction handling defers BEGIN and commits before DDL;
        # turn it off and let the "begin" listener below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Read pages straight from the OS page cache instead of copying each one through a
        # read() call: searches and article pages of a large archive touch pages all over
        # the file.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_busy_timeout(url: URL) -> float:
    """Seconds a SQLite writer waits for the write lock (the URL's ``timeout``, or 30)."""
    value = url.query.get("timeout")
    try:
        seconds = float(value) if value is not None else SQLITE_BUSY_TIMEOUT
    except ValueError:
        raise StorageError(
            f"invalid timeout={value!r} in database URL {display_url(url)}: "
            "give seconds, e.g. ?timeout=30"
        ) from None
    if seconds < 0:
        raise StorageError(f"timeout in database URL {display_url(url)} must not be negative")
    return seconds


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def write_failure(url: URL, exc: sa.exc.OperationalError) -> StorageError | None:
    """A StorageError in words for a SQLite write that failed because another process held
    the lock past the busy timeout, or because the disk is full; None for other failures."""
    if url.get_backend_name() != "sqlite":
        return None
    reason = _reason(exc)
    if "database is locked" in reason or "database table is locked" in reason:
        return StorageError(
            f"the database is locked by another process (waited {sqlite_busy_timeout(url):g} s):"
            f" {display_url(url)}: {reason} (see `govarchive runs` for a crawl still writing;"
            " the URL's ?timeout=SECONDS sets how long to wait)"
        )
    if "database or disk is full" in reason:
        return StorageError(
            f"disk full: no space left on device writing the database {display_url(url)}"
            f" ({reason})"
        )
    return None


def connection_lost(url: URL, exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to a database server broke or could not be made
    (a restart, a terminated backend): worth reconnecting and retrying the transaction."""
    if isinstance(exc, StorageError):  # check_schema's "cannot open database" wraps the cause
        exc = exc.__cause__
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return url.get_backend_name() == "postgresql" and isinstance(exc, sa.exc.OperationalError)


def gone(url: URL, exc: BaseException, seconds: float) -> StorageError:
    cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ else exc
    return StorageError(
        f"the database {display_url(url)} stayed unreachable for {seconds:g} s: {_reason(cause)}"
    )


def unreachable(url: URL, exc: Exception) -> StorageError:
    reason = _reason(exc)
    return StorageError(
        f"cannot open database {display_url(url)}: {reason} "
        "(check [storage] url in govarchive.toml or GOVARCHIVE_STORAGE__URL, "
        "and that the database server is running)"
    )


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(engine: Engine, url: URL) -> None:
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except sa.exc.OperationalError as exc:
        raise unreachable(url, exc) from exc


def check_schema(engine: Engine, url: URL) -> None:
    """Raise StorageError unless the database is migrated to this code's head revision."""
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise unreachable(url, exc) from exc
    head = head_revision()
    if current is None:
        raise StorageError(
            f"database {display_url(url)} has no govarchive tables yet: run `govarchive init`"
        )
    if current != head:
        raise StorageError(
            f"database {display_url(url)} is at schema revision {current}, this version of "
            f"govarchive needs {head}: run `govarchive init` to migrate it"
        )
