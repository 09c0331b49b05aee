"""The one Temporal workflow type: a run of algaflow's core, plan -> perform -> complete.

Deterministic by construction: the core is pure, ``now`` and new ids come from ``workflow.now()``
and ``workflow.uuid4()`` through the kernel's clock seam, and expressions run under their step
limit only (no wall clock). Actions and node handlers are activities (a handler's failure comes
back as a value, so Temporal retries only lost workers, and algaflow's own retry and backoff
apply); time waits and retry delays are durable timers; event waits and human tasks wait for the
``waitResolved`` signal that the services send once the database says which event resolved the
wait; ``control.callWorkflow`` is a child workflow. Long runs continue as new.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from algaflow.expressions import steps_only
    from algaflow.kernel.clock import frozen, iso_millis, new_id
    from algaflow.kernel.jsonb import jsonb_key_order
    from algaflow.runtime import core
    from algaflow.runtime.core.errors import normalize_error
    from algaflow.runtime.core.program import Program
    from algaflow.runtime.core.waits import parse_instant, timeout_error
    from algaflow.runtime.embedded.driver import child_missing

    from .projection import Projection

WORKFLOW_NAME = "algaflow.run"
SIGNAL = "waitResolved"
#: Steps one workflow execution takes before it continues as new (history stays small).
STEPS_PER_EXECUTION = 500
#: Temporal retries an activity only when its worker was lost: a failing handler is an answer.
INFRASTRUCTURE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=10,
)
ACTION_TIMEOUT = timedelta(seconds=90)
#: A perform activity heartbeats while its handler runs: a lost worker is noticed this soon.
ACTION_HEARTBEAT = timedelta(seconds=10)
RECORD_TIMEOUT = timedelta(seconds=60)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")


def workflow_id(run_id: str) -> str:
    """The Temporal workflow id of an algaflow run: it says which run it is."""
    return f"algaflow-run-{run_id}"


@dataclass(frozen=True)
class RunInput:
    tenant_id: str
    run_id: str
    #: Perform actions and node handlers as local activities (in the workflow's worker).
    local_activities: bool = False
    #: Steps one execution takes before it continues as new.
    steps_per_execution: int = STEPS_PER_EXECUTION


@workflow.defn(name=WORKFLOW_NAME)
class RunWorkflow:
    def __init__(self) -> None:
        self._resolved: dict[str, dict[str, Any]] = {}

    @workflow.signal(name=SIGNAL)
    def wait_resolved(self, wait_id: str, outcome: dict[str, Any]) -> None:
        self._resolved[wait_id] = outcome

    @workflow.run
    async def run(self, start: RunInput) -> str:
        with frozen(now=workflow.now, new_id=lambda: str(workflow.uuid4())), steps_only():
            try:
                return await _Execution(self, start).run()
            except RunFailed:
                return "FAILED"


class RunFailed(Exception):
    """The run was ended FAILED because its projection could not be written."""


class _Execution:
    def __init__(self, owner: RunWorkflow, start: RunInput) -> None:
        self.owner, self.start = owner, start
        self.projection = Projection(start.tenant_id, start.run_id)

    async def _act(
        self,
        name: str,
        *args: Any,
        timeout: timedelta = RECORD_TIMEOUT,
        heartbeat: timedelta | None = None,
    ) -> Any:
        """An activity's answer, its objects' keys in JSONB order again (Temporal's converter
        sorts them; a run must see what the embedded backend sees on PostgreSQL)."""
        if heartbeat is not None and self.start.local_activities:
            answer = await workflow.execute_local_activity(
                name, args=list(args), start_to_close_timeout=timeout,
                retry_policy=INFRASTRUCTURE_RETRY,
            )  # fmt: skip
        else:
            answer = await workflow.execute_activity(
                name, args=list(args), start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat, retry_policy=INFRASTRUCTURE_RETRY,
            )  # fmt: skip
        return jsonb_key_order(answer)

    async def flush(self) -> None:
        """Write the pending projection. When that keeps failing (a value the database refuses,
        a bug), the run ends FAILED with ``INTERNAL_ERROR``, as on the embedded backend."""
        ops = self.projection.take()
        if not ops:
            return
        tenant, run_id = self.start.tenant_id, self.start.run_id
        try:
            await self._act("algaflow.project", tenant, run_id, ops)
        except ActivityError as exc:
            cause = exc.cause or exc
            error = {
                "category": "ActionError", "code": "INTERNAL_ERROR",
                "message": f"Internal error: recording the run failed: {cause}"[:2000],
            }  # fmt: skip
            await self._act("algaflow.fail_run", tenant, run_id, error)
            raise RunFailed from None

    async def run(self) -> str:
        tenant, run_id = self.start.tenant_id, self.start.run_id
        loaded = await self._act("algaflow.load_run", tenant, run_id)
        state = loaded["state"]
        if loaded["status"] in TERMINAL:
            return str(loaded["status"])
        if "error" in loaded:
            self.projection.finish(state, "FAILED", loaded["error"], workflow.now())
            await self.flush()
            return "FAILED"
        program = Program(loaded["definition"])
        for _ in range(self.start.steps_per_execution):
            status = await self._step(program, state)
            if status in TERMINAL:
                await self.flush()
                return status
            if workflow.info().is_continue_as_new_suggested():
                break
        self.projection.save(state, core.current_path(program, state), "RUNNING", workflow.now())
        await self.flush()
        workflow.continue_as_new(self.start)

    async def _step(self, program: Program, state: dict[str, Any]) -> str:
        now = workflow.now()
        plan = core.plan(program, state, now)
        match plan:
            case core.Finished(transition=transition) | core.Performed(transition=transition):
                pass
            case core.OpenWait(path=str(path)):
                outcome = await self._wait(state, plan, now)
                transition = core.complete(program, state, path, outcome, workflow.now())
            case core.StartChild(path=str(path)):
                outcome = await self._child(state, plan, now)
                transition = core.complete(program, state, path, outcome, workflow.now())
            case core.CallAction(path=str(path)) | core.RunNode(path=str(path)):
                outcome = await self._perform(plan, now)
                transition = core.complete(program, state, path, outcome, workflow.now())
            case _:
                raise TypeError(f"the core planned something unknown: {plan!r}")
        return await self._record(state, plan, transition, now)

    async def _perform(self, plan: core.CallAction | core.RunNode, now: datetime) -> core.Outcome:
        kind = "action" if isinstance(plan, core.CallAction) else "node"
        request = dataclasses.asdict(plan.request)
        answer = await self._act(
            "algaflow.perform", self.start.tenant_id, self.start.run_id, kind, plan.path,
            plan.step, request, now.isoformat(), timeout=ACTION_TIMEOUT,
            heartbeat=ACTION_HEARTBEAT,
        )  # fmt: skip
        return core.outcome_from_json(answer)

    async def _record(
        self,
        state: dict[str, Any],
        plan: core.StepRef,
        transition: core.Transition,
        started: datetime,
    ) -> str:
        state = transition.state
        self.projection.record(state, plan, transition, started, workflow.now())
        if transition.retry is not None:
            return await self._retry(state, plan, transition.retry, started)
        if transition.run_status:
            status = str(transition.run_status)
            self.projection.finish(state, status, transition.run_error, workflow.now())
            return status
        return "RUNNING"

    async def _retry(
        self, state: dict[str, Any], plan: core.StepRef, retry: core.Retry, started: datetime
    ) -> str:
        """Another attempt in the same step row, after a durable timer."""
        projection = self.projection
        projection.open_step(state, plan, started)
        row_id = state["openStep"]["id"]
        projection.line(plan, row_id, "RETRYING", workflow.now(), attempt=retry.attempt,
                        error=retry.error, delay_ms=retry.delay_ms)  # fmt: skip
        if retry.delay_ms <= 0:
            return "RUNNING"
        now = workflow.now()
        wait_id = new_id()
        projection.open_wait(
            plan, wait_id, "retry", now, due_at=now + timedelta(milliseconds=retry.delay_ms),
            payload={"attempt": retry.attempt, "delayMs": retry.delay_ms, "error": retry.error},
        )  # fmt: skip
        projection.save(state, plan.path, "WAITING", now)
        await self.flush()
        await workflow.sleep(timedelta(milliseconds=retry.delay_ms))
        projection.close_wait(wait_id, workflow.now())
        return "RUNNING"

    async def _wait(
        self, state: dict[str, Any], plan: core.OpenWait, now: datetime
    ) -> core.Outcome:
        request, projection = plan.request, self.projection
        due = parse_instant(request.due_at) if request.due_at else None
        wait_id = new_id()
        wait_type = str(request.type)
        if request.type is core.WaitType.TIME and due is not None and due <= now:
            projection.open_wait(plan, wait_id, wait_type, now, due_at=due, payload=request.payload)
            projection.close_wait(wait_id, now)  # already due: no sleep, like Alga
            return core.Succeeded({**request.payload, "resumedAt": iso_millis(now)})
        projection.open_step(state, plan, now)
        key, payload = request.key, dict(request.payload)
        if request.task is not None:
            key = projection.open_task(plan, wait_id, request.task, now)
            payload["taskId"] = key
        projection.open_wait(plan, wait_id, wait_type, now, key=key, event_name=request.event_name,
                             due_at=due, payload=payload)  # fmt: skip
        projection.save(state, plan.path, "WAITING", now)
        await self.flush()
        if request.type is core.WaitType.TIME and due is not None:
            await workflow.sleep(due - now)
            resumed = workflow.now()
            projection.close_wait(wait_id, resumed)
            return core.Succeeded({**payload, "resumedAt": iso_millis(resumed)})
        outcome = await self._signal(wait_id, due, payload, plan.path or "")
        projection.save(state, plan.path, "RUNNING", workflow.now())
        await self.flush()  # the run row says the outcome arrived (no need to send it again)
        return outcome

    async def _signal(
        self, wait_id: str, due: datetime | None, payload: dict[str, Any], path: str
    ) -> core.Outcome:
        """The outcome the services signal; at ``due``, a timeout, unless an event won the wait
        in the database first (then its signal is on its way)."""
        resolved = self.owner._resolved
        timeout = None if due is None else max(due - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(lambda: wait_id in resolved, timeout=timeout)
        except TimeoutError:
            if await self._act("algaflow.close_wait", wait_id):
                error = normalize_error(timeout_error(payload), path, iso_millis(workflow.now()))
                return core.Failed(error)
            await workflow.wait_condition(lambda: wait_id in resolved)
        return core.outcome_from_json(jsonb_key_order(resolved.pop(wait_id)))

    async def _child(
        self, state: dict[str, Any], plan: core.StartChild, now: datetime
    ) -> core.Outcome:
        tenant, path, step = self.start.tenant_id, plan.path or "", plan.step or {}
        self.projection.open_step(state, plan, now)
        self.projection.save(state, path, "RUNNING", now)
        await self.flush()
        request = dataclasses.asdict(plan.request)
        child_id = await self._act(
            "algaflow.create_child", tenant, self.start.run_id, path, request, new_id()
        )
        if child_id is None:
            return core.Failed(child_missing(step, path))
        await workflow.execute_child_workflow(
            WORKFLOW_NAME,
            dataclasses.replace(self.start, run_id=child_id),  # the parent's settings
            id=workflow_id(child_id),
        )
        answer = await self._act("algaflow.child_outcome", tenant, child_id, step)
        return core.outcome_from_json(answer)
