"""A set and a mapping read on first use.

What a run knows from the database before it starts (the source's stored article URLs, the
requisites archived before) is needed only once a list page or an article is read. An
unchanged check, whose list pages answer 304, never reads them, and for a source archived for
years they are the largest part of its set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Set
from typing import Any


class LazySet(Set):
    def __init__(self, load: Callable[[], Set]):
        self._load: Callable[[], Set] | None = load
        self._items: frozenset = frozenset()

    @property
    def items(self) -> frozenset:
        if self._load is not None:
            self._items, self._load = frozenset(self._load()), None
        return self._items

    @property
    def loaded(self) -> bool:
        return self._load is None

    def __contains__(self, item: object) -> bool:
        return item in self.items

    def __iter__(self) -> Iterator:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class LazyMapping(Mapping):
    def __init__(self, load: Callable[[], Mapping]):
        self._load: Callable[[], Mapping] | None = load
        self._data: Mapping = {}

    @property
    def data(self) -> Mapping:
        if self._load is not None:
            self._data, self._load = dict(self._load()), None
        return self._data

    @property
    def loaded(self) -> bool:
        return self._load is None

    def __getitem__(self, key: Any) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
