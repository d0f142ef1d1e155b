"""Ordered runs of a batch, so a consumer applies many events with one set-based statement each.

A consumer's batch is one transaction already (`EventConsumer`): what costs is applying its events one by one,
a few statements per event. Consecutive events of one kind that touch disjoint things (profile ids, identity
keys) commute: applying them together, in one statement per step, has the effect of applying them in order.
`runs()` cuts the batch where that stops being true: at a change of kind, or at an event touching something an
earlier event of the run touched. Order across runs, and within a run, is the batch's.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def runs(
    items: Iterable[T],
    kind: Callable[[T], Hashable],
    touches: Callable[[T], Iterable[Hashable]] = lambda _item: (),
) -> Iterator[tuple[Hashable, list[T]]]:
    """(kind, items) for each maximal run of consecutive items of one kind whose `touches` are disjoint."""
    current: list[T] = []
    current_kind: Hashable = None
    seen: set[Hashable] = set()
    for item in items:
        k = kind(item)
        touched = set(touches(item))
        if current and (k != current_kind or not seen.isdisjoint(touched)):
            yield current_kind, current
            current, seen = [], set()
        current_kind = k
        current.append(item)
        seen |= touched
    if current:
        yield current_kind, current
