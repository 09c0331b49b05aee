"""The database a service call works on; the call opens and ends its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from algaflow.store.engine import write_transaction


@dataclass(frozen=True)
class UnitOfWork:
    """Transactions on one engine: ``reading()`` for queries, ``writing()`` for changes.

    ``writing()`` commits when its block ends without an error, so code after the block runs
    only once the write is durable; a failing commit raises out of the block.
    """

    engine: Engine

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with write_transaction(self.engine) as conn:
            yield conn
