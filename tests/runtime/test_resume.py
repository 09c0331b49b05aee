"""A run interrupted by a killed process continues from its last finished step."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

from algaflow.kernel.clock import utcnow
from algaflow.runtime.service import get_run, run_due_work, start_run

from .conftest import call, expr, publish

CHILD = textwrap.dedent(
    """
    import os, sys
    from algaflow.registry import ActionDef, default_registry
    from algaflow.runtime.service import drive_runs
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
    drive_runs(make_engine(url), tenant, [run_id], registry=registry)
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
        run = start_run(conn, tenant, wf, registry=registry, drive=False)
    assert run["status"] == "RUNNING"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, tenant, run["runId"], str(marker)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 17, proc.stderr
    with engine.connect() as conn:
        interrupted = get_run(conn, tenant, run["runId"])
    assert interrupted["status"] == "RUNNING"
    assert interrupted["nodePath"] == "root.steps[1]"
    assert [s["status"] for s in interrupted["steps"]] == ["SUCCEEDED"]
    # The dead process's lease has to expire before anyone else takes the run over.
    assert run_due_work(engine, registry=registry) == 0
    run_due_work(engine, registry=registry, now=utcnow() + timedelta(hours=1))
    with engine.connect() as conn:
        done = get_run(conn, tenant, run["runId"])
    assert done["status"] == "SUCCEEDED"
    assert done["vars"]["two"] == {"got": 42}
    assert marker.read_text() == "first\n"  # ran once, in the killed process
