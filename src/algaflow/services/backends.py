"""The run backend: who executes the runs the services record.

Every use case writes its runs, waits and tasks in one transaction first (so its answer names
durable ids), then hands what it wrote to the backend that owns each run (``workflow_runs.engine``):

* ``embedded`` (the default) drives runs in this process's driver: at once when the caller asks to
  wait, else by waking the worker (``serve``'s thread, ``algaflow worker``), which finds them.
* ``temporal`` starts one Temporal workflow per run and delivers resolved waits as signals; the
  workflow projects what it does into the same tables.

``ALGAFLOW_RUNTIME`` picks the backend new runs get; a run keeps its backend for life.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Connection

from algaflow.config import Settings, TemporalSettings, load_settings
from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.runtime.embedded.driver import Driver, DriverOptions
from algaflow.services.due_work import drive_runs, run_due_work
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import runs, waits

if TYPE_CHECKING:
    from algaflow.runtime.temporal.gateway import Gateway

EMBEDDED = "embedded"
TEMPORAL = "temporal"
BACKENDS = (EMBEDDED, TEMPORAL)
#: A Temporal run recorded this long ago and still not started is started by the reconciler.
DISPATCH_GRACE = timedelta(seconds=10)


@dataclass(frozen=True)
class WaitResolved:
    """A wait that a committed transaction resolved, and the outcome its run resumes with."""

    run_id: str
    wait_id: str
    outcome: dict[str, Any]


@dataclass
class Handoff:
    """What a committed write leaves to a backend: runs to execute (new, or resumed in the
    database) and resolved waits whose outcome the backend delivers itself."""

    runs: list[str] = field(default_factory=list)
    resolved: list[WaitResolved] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.runs or self.resolved)


class RunBackend(Protocol):
    """One way of executing runs; the services call it, never a driver or a Temporal client."""

    name: str

    def resolve_wait(
        self,
        conn: Connection,
        registry: Registry,
        tenant_id: str,
        run_id: str,
        wait_id: str,
        outcome: dict[str, Any],
        options: DriverOptions | None,
    ) -> Handoff | None:
        """Resolve the wait inside the caller's transaction; None when it was resolved already
        (by another event, a timeout, a cancel). The handoff goes to :meth:`execute` once the
        transaction is committed."""
        ...

    def execute(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        handoff: Handoff,
        *,
        registry: Registry,
        options: DriverOptions | None,
        wait: bool,
    ) -> None:
        """Execute committed work; with ``wait``, return once each run waits or has ended."""
        ...

    def cancel(self, run_ids: Sequence[str]) -> None:
        """The runs were canceled in the database: stop executing them."""
        ...

    def due_work(
        self,
        uow: UnitOfWork,
        *,
        registry: Registry,
        now: datetime | None = None,
        options: DriverOptions | None = None,
    ) -> int:
        """One pass of the worker's periodic work for this backend's runs; how many it touched."""
        ...


# --- embedded ------------------------------------------------------------------------------------

_wake = threading.Event()


def wake_workers() -> None:
    """Tell the worker loops of this process that there is work (they also poll)."""
    _wake.set()


def wait_for_work(timeout_s: float) -> None:
    """Sleep until :func:`wake_workers` is called or ``timeout_s`` passes."""
    if _wake.wait(timeout_s):
        _wake.clear()


class EmbeddedBackend:
    """Runs executed by algaflow's own durable driver."""

    name = EMBEDDED

    def resolve_wait(
        self,
        conn: Connection,
        registry: Registry,
        tenant_id: str,
        run_id: str,
        wait_id: str,
        outcome: dict[str, Any],
        options: DriverOptions | None,
    ) -> Handoff | None:
        driver = Driver(conn, registry, options=options)
        woken = driver.resolve_wait(tenant_id, run_id, wait_id, outcome)
        return None if woken is None else Handoff(runs=woken)

    def execute(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        handoff: Handoff,
        *,
        registry: Registry,
        options: DriverOptions | None,
        wait: bool,
    ) -> None:
        if wait:
            drive_runs(uow, tenant_id, handoff.runs, registry=registry, options=options)
        elif handoff:
            wake_workers()  # RUNNING runs without a lease are the worker's to drive

    def cancel(self, run_ids: Sequence[str]) -> None:
        """Nothing to do: a driver notices the cancel at its next write and stops."""

    def due_work(
        self,
        uow: UnitOfWork,
        *,
        registry: Registry,
        now: datetime | None = None,
        options: DriverOptions | None = None,
    ) -> int:
        return run_due_work(uow, registry=registry, now=now, options=options)


# --- temporal ------------------------------------------------------------------------------------


class TemporalBackend:
    """Runs executed as Temporal workflows (``algaflow worker`` hosts them); algaflow's tables are
    their read model. Wait outcomes go to the workflow as signals once committed."""

    name = TEMPORAL

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def resolve_wait(
        self,
        conn: Connection,
        registry: Registry,
        tenant_id: str,
        run_id: str,
        wait_id: str,
        outcome: dict[str, Any],
        options: DriverOptions | None,
    ) -> Handoff | None:
        if not waits.close_wait(conn, wait_id, status="RESOLVED", at=utcnow(), outcome=outcome):
            return None  # the database decides which event resolves a wait, as for embedded
        return Handoff(resolved=[WaitResolved(run_id, wait_id, outcome)])

    def execute(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        handoff: Handoff,
        *,
        registry: Registry,
        options: DriverOptions | None,
        wait: bool,
    ) -> None:
        for resolved in handoff.resolved:
            self.gateway.resolve(resolved.run_id, resolved.wait_id, resolved.outcome)
        self.start(uow, tenant_id, handoff.runs)
        if wait:
            ids = [*handoff.runs, *(r.run_id for r in handoff.resolved)]
            self.gateway.settle(uow.engine, tenant_id, ids)

    def start(self, uow: UnitOfWork, tenant_id: str, run_ids: Sequence[str]) -> None:
        """Start the runs' workflows (idempotent by workflow id), then record that they were."""
        if not run_ids:
            return
        for run_id in run_ids:
            self.gateway.start(tenant_id, run_id)
        with uow.writing() as conn:
            runs.mark_dispatched(conn, run_ids, at=utcnow())

    def cancel(self, run_ids: Sequence[str]) -> None:
        for run_id in run_ids:
            self.gateway.cancel(run_id)

    def due_work(
        self,
        uow: UnitOfWork,
        *,
        registry: Registry,
        now: datetime | None = None,
        options: DriverOptions | None = None,
    ) -> int:
        """The reconciler, for what a process that died between a commit and its Temporal call
        left undone: start the workflows of runs recorded but never started, and send again
        the outcomes of waits resolved but never delivered (a workflow ignores a signal for a
        wait it no longer has)."""
        now = now or utcnow()
        with uow.reading() as conn:
            lost = runs.undispatched_runs(conn, TEMPORAL, now - DISPATCH_GRACE)
            undelivered = waits.undelivered_outcomes(conn, TEMPORAL, now - DISPATCH_GRACE)
        by_tenant: dict[str, list[str]] = {}
        for run in lost:
            by_tenant.setdefault(run.tenant, []).append(run.run_id)
        for tenant_id, run_ids in by_tenant.items():
            self.start(uow, tenant_id, run_ids)
        for wait in undelivered:
            self.gateway.resolve(wait.run_id, wait.wait_id, wait.outcome_json or {})
        return len(lost) + len(undelivered)


# --- choosing ------------------------------------------------------------------------------------


def configured_backend(settings: Settings | None = None) -> RunBackend:
    """The backend ``ALGAFLOW_RUNTIME`` names; a coded error for a name that is none, or for
    Temporal on SQLite (its workers on many machines share the database)."""
    settings = settings or load_settings()
    if settings.runtime == EMBEDDED:
        return _EMBEDDED
    if settings.runtime != TEMPORAL:
        raise AlgaflowError(
            "RUNTIME_UNKNOWN",
            f"ALGAFLOW_RUNTIME must be one of {', '.join(BACKENDS)}, not {settings.runtime!r}",
            details={"runtime": settings.runtime},
        )
    if settings.is_sqlite:
        raise AlgaflowError(
            "TEMPORAL_NEEDS_POSTGRESQL",
            "The temporal runtime needs a PostgreSQL database (ALGAFLOW_DATABASE_URL): its "
            "workers and the server share it, and SQLite is one machine's file.",
            details={"runtime": TEMPORAL},
        )
    return temporal_backend(settings.temporal)


def backend_named(name: str, given: RunBackend | None = None) -> RunBackend:
    """The backend that owns a run whose ``engine`` is ``name``: ``given`` when it is that one
    (a caller's own), else the configured one of that name."""
    if given is not None and given.name == name:
        return given
    if name == EMBEDDED:
        return _EMBEDDED
    return temporal_backend(load_settings().temporal)


@lru_cache(maxsize=8)
def temporal_backend(settings: TemporalSettings) -> TemporalBackend:
    """One backend (and one client connection) per Temporal server configuration."""
    try:
        from algaflow.runtime.temporal.gateway import Gateway
    except ImportError as exc:
        raise AlgaflowError(
            "TEMPORAL_NOT_INSTALLED",
            "The temporal runtime needs the extra: pip install 'algaflow[temporal]'",
            details={"missing": exc.name},
        ) from None
    return TemporalBackend(Gateway(settings))


_EMBEDDED = EmbeddedBackend()


def execute_all(
    uow: UnitOfWork,
    tenant_id: str,
    handoffs: dict[str, Handoff],
    *,
    registry: Registry,
    options: DriverOptions | None,
    wait: bool,
    backend: RunBackend | None = None,
) -> None:
    """Hand each backend its share of a committed write (``handoffs`` by engine name)."""
    for name, handoff in handoffs.items():
        backend_named(name, backend).execute(
            uow, tenant_id, handoff, registry=registry, options=options, wait=wait
        )


def run_engine(conn: Connection, tenant_id: str, run_id: str) -> str:
    """The backend name of a run."""
    return runs.load_run(conn, tenant_id, run_id).engine


def backend_of(
    conn: Connection, tenant_id: str, run_id: str, backend: RunBackend | None
) -> RunBackend:
    """The backend that owns the run (``backend`` when it is that one)."""
    return backend_named(run_engine(conn, tenant_id, run_id), backend)
