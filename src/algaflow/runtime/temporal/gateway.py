"""The Temporal client as the services need it: synchronous calls from request threads.

The client is asyncio; one event loop on a daemon thread holds the connection, and each call
runs a coroutine on it and waits for the answer. Starting is idempotent by workflow id (a run's
workflow is never started twice, so a reconciler may start again what a crash left unstarted).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from temporalio.client import Client, TLSConfig, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from algaflow.config import TemporalSettings
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import runs, waits

from .workflow import SIGNAL, WORKFLOW_NAME, RunInput, workflow_id

T = TypeVar("T")
#: How long ``settle`` waits for runs to wait or end before answering with what there is.
SETTLE_TIMEOUT_S = 60.0


async def connect(settings: TemporalSettings) -> Client:
    """A client for the configured server (TLS when asked, with the given files)."""

    def read(path: str | None) -> bytes | None:
        return Path(path).read_bytes() if path else None

    tls: bool | TLSConfig = False
    if settings.tls:
        tls = TLSConfig(
            server_root_ca_cert=read(settings.tls_ca_file),
            client_cert=read(settings.tls_cert_file),
            client_private_key=read(settings.tls_key_file),
        )
    try:
        return await Client.connect(settings.address, namespace=settings.namespace, tls=tls)
    except RuntimeError as exc:
        raise AlgaflowError(
            "TEMPORAL_UNAVAILABLE",
            f"Cannot reach the Temporal server at {settings.address}: {exc}",
            details={"address": settings.address, "namespace": settings.namespace},
        ) from None


class Gateway:
    def __init__(
        self,
        settings: TemporalSettings,
        client: Client | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """A gateway that connects on first use; or one on a ``client`` already connected and
        the running ``loop`` it belongs to (a test server's)."""
        self.settings = settings
        self._client = client
        if loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="algaflow-temporal", daemon=True
            )
            thread.start()
        self._loop = loop

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        return self._client

    def start(self, tenant_id: str, run_id: str) -> None:
        self._call(self._start(tenant_id, run_id))

    async def _start(self, tenant_id: str, run_id: str) -> None:
        client = await self.client()
        with suppress(WorkflowAlreadyStartedError):  # started before: a start that was retried
            await client.start_workflow(
                WORKFLOW_NAME,
                RunInput(tenant_id, run_id, local_activities=self.settings.local_activities),
                id=workflow_id(run_id),
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # fmt: skip

    def resolve(self, run_id: str, wait_id: str, outcome: dict[str, Any]) -> None:
        """Deliver a wait's outcome (resolved in the database already) to the run's workflow."""
        self._call(self._signal(run_id, wait_id, outcome))

    async def _handle(self, run_id: str) -> WorkflowHandle[Any, Any]:
        return (await self.client()).get_workflow_handle(workflow_id(run_id))

    async def _signal(self, run_id: str, wait_id: str, outcome: dict[str, Any]) -> None:
        await (await self._handle(run_id)).signal(SIGNAL, args=[wait_id, outcome])

    def cancel(self, run_id: str) -> None:
        self._call(self._cancel(run_id))

    async def _cancel(self, run_id: str) -> None:
        with suppress(RPCError):  # never started, or ended: the database says CANCELED anyway
            await (await self._handle(run_id)).cancel()

    def settle(self, engine: Engine, tenant_id: str, run_ids: Sequence[str]) -> None:
        """Return once each run waits or has ended, as its projection shows, or after
        :data:`SETTLE_TIMEOUT_S`."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        pending = list(run_ids)
        delay = 0.01
        while pending and time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = [run_id for run_id in pending if not _settled(conn, tenant_id, run_id)]
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)


def _settled(conn: Any, tenant_id: str, run_id: str) -> bool:
    """Ended, or parked on an open wait (of its own, or of the child run it awaits)."""
    run = runs.load_run(conn, tenant_id, run_id)
    if not run.active:
        return True
    if any(wait.status == "WAITING" for wait in waits.run_waits(conn, run_id)):
        return True
    return any(
        _settled(conn, tenant_id, child.run_id) for child in runs.active_children(conn, run_id)
    )
