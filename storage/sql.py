"""SQL helpers every storage module may use: bounded ``IN`` lists, upserts that ignore
conflicts, key-to-value lookups. They import nothing from storage, so any module can sit on
top of them without importing its neighbours."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

# Values per IN (...) list (and rows per executemany batch): well under SQLite's
# bound-parameter limit.
IN_LIST_SIZE = 500

T = TypeVar("T")


def in_chunks(values: Iterable[T], size: int = IN_LIST_SIZE) -> Iterator[list[T]]:
    """``values`` in consecutive lists of at most ``size``, in their order."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_conflicts(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: Sequence[str]
) -> None:
    """INSERT .. ON CONFLICT (key) DO NOTHING, for both backends."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=list(key)), rows)


def lookup(conn: sa.Connection, key: sa.Column, value: sa.Column, keys: Iterable[Any]) -> dict:
    """{key: value} for the rows whose key is in ``keys``."""
    found: dict = {}
    for chunk in in_chunks(dict.fromkeys(keys)):
        found.update(conn.execute(sa.select(key, value).where(key.in_(chunk))).all())
    return found
