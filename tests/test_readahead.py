"""connectors.readahead: the next batch is produced in a worker thread, and nothing else
changes - order, errors, closing, memory bound, the thread the source is used in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connectors.readahead import read_ahead


class Source:
    """A generator source that records in which thread each step ran and how far it got."""

    def __init__(self, n: int, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.n, self.fail_at, self.delay = n, fail_at, delay
        self.threads: set[int] = set()
        self.produced = 0
        self.closed_in: int | None = None
        self.finished = False

    def __iter__(self) -> Iterator[int]:
        return self.run()

    def run(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                self.threads.add(threading.get_ident())
                if self.delay:
                    time.sleep(self.delay)
                if i == self.fail_at:
                    raise LookupError(f"row {i} broke")
                self.produced += 1
                yield i
            self.finished = True
        finally:
            self.closed_in = threading.get_ident()


def test_yields_every_item_in_order_from_one_worker_thread() -> None:
    src = Source(50)
    assert list(read_ahead(src)) == list(range(50))
    assert src.finished
    assert len(src.threads) == 1 and threading.get_ident() not in src.threads
    assert src.closed_in in src.threads


def test_an_error_is_raised_in_the_caller_after_the_items_before_it() -> None:
    src = Source(10, fail_at=4)
    got: list[int] = []
    with pytest.raises(LookupError, match="row 4 broke"):
        for item in read_ahead(src, depth=2):
            got.append(item)
    assert got == [0, 1, 2, 3]
    assert src.closed_in in src.threads


def test_stopping_early_closes_the_source_in_its_own_thread_and_reads_no_further() -> None:
    src = Source(1_000, delay=0.001)
    gen = read_ahead(src, depth=1)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()
    assert src.closed_in is not None and src.closed_in in src.threads
    assert threading.get_ident() not in src.threads
    # The consumer took 3; the worker may hold one in the queue and be producing one more.
    assert src.produced <= 3 + 2
    assert not src.finished


@pytest.mark.parametrize("depth", [1, 3])
def test_the_worker_stays_at_most_depth_items_ahead(depth: int) -> None:
    src = Source(40)
    ahead = []
    for item in read_ahead(src, depth=depth):
        time.sleep(0.002)  # a slow consumer: the worker fills the queue and waits
        ahead.append(src.produced - (item + 1))
    # queued items plus the one the worker produced and is waiting to hand over
    assert max(ahead) <= depth + 1
    assert max(ahead) >= 1, "the worker did read ahead"


def test_an_empty_source_yields_nothing_and_depth_must_be_positive() -> None:
    assert list(read_ahead(Source(0))) == []
    with pytest.raises(ValueError, match="depth"):
        list(read_ahead(Source(1), depth=0))
