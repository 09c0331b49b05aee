"""Every example bundle runs on the Temporal backend to the same final state, variables and step
sequence as on the embedded one, on PostgreSQL; and the recorded histories replay."""

from __future__ import annotations

import pytest
from tests.e2e.e2e_scenarios import SCENARIO_IDS, check_scenario, scenario, without_at
from tests.e2e.test_examples_run import ServiceSurface

from algaflow.store.tenants import create_tenant


def _steps(run):
    return [(s["stepPath"], s["definitionStepId"], s["status"], s["attempt"]) for s in run["steps"]]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_example_runs_alike_on_both_backends(
    engine, tenant, registry, temporal_backend, scenario_id
):
    item = scenario(scenario_id)
    embedded = check_scenario(ServiceSurface(engine, tenant, registry), item)
    with engine.begin() as conn:
        other = create_tenant(conn, "on-temporal")["id"]
    on_temporal = check_scenario(ServiceSurface(engine, other, registry, temporal_backend), item)
    for outcome in (embedded, on_temporal):
        assert outcome.run["status"] == "SUCCEEDED"
    assert without_at(on_temporal.run["vars"]) == without_at(embedded.run["vars"])
    assert _steps(on_temporal.run) == _steps(embedded.run)
    levels = [(line["level"], line["message"]) for line in on_temporal.run["logs"]]
    assert levels == [(line["level"], line["message"]) for line in embedded.run["logs"]]


def test_recorded_histories_replay(engine, tenant, registry, temporal_server, temporal_backend):
    """A change to the core or the workflow that breaks determinism fails here: each example's
    history, recorded in this run, replays through Temporal's Replayer without a mismatch."""
    from temporalio.worker import Replayer

    from algaflow.runtime.temporal.worker import sandbox_runner
    from algaflow.runtime.temporal.workflow import RunWorkflow, workflow_id

    client = temporal_server.env.client
    replayer = Replayer(workflows=[RunWorkflow], workflow_runner=sandbox_runner())
    run_ids = []
    for scenario_id in SCENARIO_IDS:
        with engine.begin() as conn:
            tenant_id = create_tenant(conn, f"replay-{scenario_id}")["id"]
        surface = ServiceSurface(engine, tenant_id, registry, temporal_backend)
        outcome = check_scenario(surface, scenario(scenario_id))
        run_ids += [outcome.run["runId"], *(child["runId"] for child in outcome.children)]

    async def replay_all() -> int:
        replayed = 0
        for run_id in run_ids:
            history = await client.get_workflow_handle(workflow_id(run_id)).fetch_history()
            await replayer.replay_workflow(history)
            replayed += 1
        return replayed

    assert temporal_server.call(replay_all()) == len(run_ids)
