"""Pause Python's cyclic garbage collector around bulk work on millions of small objects.

Loading a million votes creates millions of pydantic objects, and each full collection of the
cyclic collector walks all of them. Measured with benchmarks/bench_compare.py on a 2-CPU Xeon
(pydantic 2.14, Python 3.12): loading 250,000 votes from JSONL took 4.2 s with the collector on
and 1.2 s with it paused. Verdict records hold no reference cycles, so reference counting alone
frees them, and pausing loses nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block and restore its previous state afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
