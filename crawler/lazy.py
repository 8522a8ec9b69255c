"""A set and a mapping read on first use.

What a run knows from the database before it starts (the source's stored article URLs, the
requisites archived before) is needed only once a list page or an article is read. An
unchanged check, whose list pages answer 304, never reads them, and for a source archived for
years they are the largest part of its set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Set
from typing import Any


class _ReadOnFirstUse:
    """Holds ``load`` until the contents are first asked for, then its result, kept as
    ``keep`` makes it (a frozenset, a dict)."""

    keep: Callable[[Any], Any]

    def __init__(self, load: Callable[[], Any]):
        self._load: Callable[[], Any] | None = load
        self._contents: Any = None

    @property
    def contents(self) -> Any:
        if self._load is not None:
            self._contents, self._load = self.keep(self._load()), None
        return self._contents

    @property
    def loaded(self) -> bool:
        return self._load is None

    def __iter__(self) -> Iterator:
        return iter(self.contents)

    def __len__(self) -> int:
        return len(self.contents)


class LazySet(_ReadOnFirstUse, Set):
    keep = frozenset

    def __contains__(self, item: object) -> bool:
        return item in self.contents


class LazyMapping(_ReadOnFirstUse, Mapping):
    keep = dict

    def __getitem__(self, key: Any) -> Any:
        return self.contents[key]
