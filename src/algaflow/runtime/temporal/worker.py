"""A Temporal worker process's part: the run workflow and its activities on the task queue.

The workflow sandbox re-imports workflow code for every run; algaflow (pure core, expressions)
and jlens are passed through instead, which is safe because the core keeps no global state and
reads no clock (an import-linter contract keeps it so).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from algaflow.config import TemporalSettings
from algaflow.runtime.embedded.driver import DriverOptions

from .activities import Activities
from .gateway import connect
from .workflow import RunWorkflow

PASSTHROUGH = ("algaflow", "jlens", "regex", "sqlalchemy", "jsonschema", "pydantic")


def sandbox_runner() -> SandboxedWorkflowRunner:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    client: Client,
    engine: Engine,
    registry: Any,
    *,
    task_queue: str,
    options: DriverOptions | None = None,
    max_activities: int = 16,
) -> Worker:
    """A worker for ``task_queue`` whose activities use ``engine`` and ``registry``."""
    activities = Activities(engine, registry, options)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[RunWorkflow],
        activities=activities.all(),
        activity_executor=ThreadPoolExecutor(max_activities),
        max_concurrent_activities=max_activities,
        workflow_runner=sandbox_runner(),
    )


def serve_worker(
    settings: TemporalSettings,
    engine: Engine,
    registry: Any,
    *,
    stop: threading.Event,
    options: DriverOptions | None = None,
) -> None:
    """Run a worker until ``stop`` is set (blocks the calling thread)."""

    async def main() -> None:
        client = await connect(settings)
        worker = build_worker(
            client, engine, registry, task_queue=settings.task_queue, options=options
        )
        async with worker:
            while not stop.is_set():
                await asyncio.sleep(0.2)

    asyncio.run(main())
