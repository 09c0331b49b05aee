"""A run interrupted by a killed process continues from its last finished step."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

from algaflow.kernel.clock import utcnow
from algaflow.services.due_work import run_due_work
from algaflow.services.runs import get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork

from .conftest import call, expr, publish
from .killed_process import killed_before_driving

CHILD = textwrap.dedent(
    """
    import os, sys
    from algaflow.registry import ActionDef, default_registry
    from algaflow.services.due_work import drive_runs
    from algaflow.services.unit_of_work import UnitOfWork
    from algaflow.store.engine import make_engine

    url, tenant, run_id, marker = sys.argv[1:5]
    registry = default_registry()
    registry.schemas.register("payload.Test.v1", {"type": "object"})

    def first(args, ctx):
        with open(marker, "a") as f:
            f.write("first\\n")
        return {"value": 41}

    def second(args, ctx):
        os._exit(17)  # the process dies while the second action runs

    for name, fn in (("test.first", first), ("test.second", second)):
        registry.actions.register(ActionDef(name, 1, {"type": "object"}, {"type": "object"}, fn))
    drive_runs(UnitOfWork(make_engine(url)), tenant, [run_id], registry=registry)
    """
)


def test_killed_process_resumes_without_rerunning_finished_actions(
    engine, tenant, registry, actions, tmp_path, db_url
):
    marker = tmp_path / "calls.txt"
    actions.add("test.first", lambda a, c: marker.open("a").write("first\n") and {"value": 0})
    actions.add("test.second", lambda args, _ctx: {"got": args["v"]})
    steps = [
        call("one", "test.first", saveAs="one"),
        call("two", "test.second", inputMapping={"v": expr("vars.one.value + 1")}, saveAs="two"),
    ]
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    [run_id] = killed_before_driving(
        lambda: start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    )
    run = get_run(UnitOfWork(engine), tenant, run_id)
    assert run["status"] == "RUNNING"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, tenant, run["runId"], str(marker)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 17, proc.stderr
    interrupted = get_run(UnitOfWork(engine), tenant, run["runId"])
    assert interrupted["status"] == "RUNNING"
    assert interrupted["nodePath"] == "root.steps[1]"
    assert [s["status"] for s in interrupted["steps"]] == ["SUCCEEDED"]
    # The dead process's lease has to expire before anyone else takes the run over.
    assert run_due_work(UnitOfWork(engine), registry=registry) == 0
    run_due_work(UnitOfWork(engine), registry=registry, now=utcnow() + timedelta(hours=1))
    done = get_run(UnitOfWork(engine), tenant, run["runId"])
    assert done["status"] == "SUCCEEDED"
    assert done["vars"]["two"] == {"got": 42}
    assert marker.read_text() == "first\n"  # ran once, in the killed process
