"""The clock and id seam is per context: a frozen clock never leaks into another thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from algaflow.kernel import clock

PINNED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_frozen_applies_to_this_context_and_is_restored():
    with clock.frozen(now=lambda: PINNED, new_id=lambda: "id-1"):
        assert (clock.utcnow(), clock.new_id()) == (PINNED, "id-1")
        with clock.frozen(new_id=lambda: "id-2"):  # nesting keeps the outer clock
            assert (clock.utcnow(), clock.new_id()) == (PINNED, "id-2")
        assert clock.new_id() == "id-1"
    assert clock.utcnow() != PINNED and clock.new_id() != "id-1"


def test_another_thread_keeps_the_real_clock_while_one_is_frozen():
    seen: list[datetime] = []
    frozen_in = threading.Event()
    read = threading.Event()

    def other() -> None:
        frozen_in.wait(5)
        seen.append(clock.utcnow())
        read.set()

    thread = threading.Thread(target=other)
    thread.start()
    with clock.frozen(now=lambda: PINNED):
        frozen_in.set()
        read.wait(5)
        assert clock.utcnow() == PINNED
    thread.join(5)
    assert seen and seen[0] != PINNED
