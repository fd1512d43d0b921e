"""Pause Python's cyclic garbage collector during bulk work.

Loading a large manifest or a broker's definitions creates hundreds of thousands of small,
acyclic objects (YAML nodes, dicts, resources). Each allocation burst triggers generational
collections that scan the whole growing heap and find nothing to free: at 10,000 queues they
cost more than the parsing itself. Reference counting still frees everything as usual; only
the cycle detector waits until the bulk step is over.

When the outermost pause ends, the objects that survived it are frozen (`gc.freeze`) before
the collector comes back: otherwise its first run scans them all at once (0.15 s at 10,000
queues) only to find them alive. Frozen objects are still freed by reference counting; only
reference cycles among them would wait for the process to end, which for a CLI run is soon.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable)

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Re-entrant and thread-safe: the collector comes back when the outermost pause ends."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.freeze()
                gc.enable()


def gc_paused(func: F) -> F:
    """Decorator form of `paused_gc`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with paused_gc():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
