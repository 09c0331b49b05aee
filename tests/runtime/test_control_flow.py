"""Branches, loops, try/catch, return, saveAs and the assignment rules, on both databases."""

from __future__ import annotations

from datetime import datetime

from algaflow.kernel.clock import iso_millis
from algaflow.registry.nodes import NodeTypeDef
from algaflow.services.runs import start_run
from algaflow.services.unit_of_work import UnitOfWork

from .conftest import assign, call, expr, publish


def run(engine, tenant, registry, steps, payload=None, **kw):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, **kw)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload=payload or {})


def test_if_branches_and_save_as(engine, tenant, registry, actions):
    steps = [
        {
            "id": "branch",
            "type": "control.if",
            "condition": expr("payload.n > 1"),
            "then": [call("big", inputMapping={"size": "big"}, saveAs="result")],
            "else": [call("small", inputMapping={"size": "small"}, saveAs="result")],
        },
        assign("after", vars__copy="vars.result.echo.size"),
    ]
    out = run(engine, tenant, registry, steps, {"n": 5})
    assert out["status"] == "SUCCEEDED"
    assert out["vars"]["copy"] == "big"
    assert [s["stepPath"] for s in out["steps"]] == [
        "root.steps[0]",
        "root.steps[0].then.steps[0]",
        "root.steps[1]",
    ]
    assert all(s["status"] == "SUCCEEDED" for s in out["steps"])
    out = run(engine, tenant, registry, steps, {"n": 0}, key="wf2")
    assert out["vars"]["copy"] == "small"


def failing(actions, action_id="test.fail", category="ActionError", code="BOOM"):
    from algaflow.registry import ActionRuntimeError

    def boom(args, _ctx):
        raise ActionRuntimeError(category, code, f"failed {args.get('i')}")

    actions.add(action_id, boom)


def loop(step_id, items, body, **extra):
    return {"id": step_id, "type": "control.forEach", "items": expr(items), "itemVar": "it",
            "body": body, **extra}  # fmt: skip


def test_foreach_scope_and_item_var_restore(engine, tenant, registry, actions):
    steps = [
        assign("seed", vars__it="'before'", vars__seen="[]"),
        loop(
            "each",
            "[10, 20, 30]",
            [
                call("use", inputMapping={"i": expr("it"), "idx": expr("local.index"),
                                          "last": expr("isLast")}),
                assign("collect", vars__seen="$append(vars.seen, vars.it)"),
            ],
        ),
    ]  # fmt: skip
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [
        {"i": 10, "idx": 0, "last": False},
        {"i": 20, "idx": 1, "last": False},
        {"i": 30, "idx": 2, "last": True},
    ]
    assert out["vars"]["seen"] == [10, 20, 30]
    assert out["vars"]["it"] == "before"  # restored after the loop
    assert out["vars"]["__forEach"] == {}
    use_rows = [s for s in out["steps"] if s["stepPath"] == "root.steps[1].body.steps[0]"]
    assert [s["attempt"] for s in use_rows] == [1, 2, 3]


def test_foreach_on_item_error_continue_goes_on_with_the_same_item(
    engine, tenant, registry, actions
):
    failing(actions)
    steps = [
        loop(
            "each",
            "[1, 2]",
            [call("bad", "test.fail", inputMapping={"i": expr("it")}),
             call("after", inputMapping={"i": expr("it")})],
            onItemError="continue",
        )
    ]  # fmt: skip
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"i": 1}, {"i": 2}]
    failed = [s for s in out["steps"] if s["status"] == "FAILED"]
    assert len(failed) == 2 and failed[0]["error"]["code"] == "BOOM"


def test_foreach_on_item_error_fail_fails_the_run(engine, tenant, registry, actions):
    failing(actions)
    steps = [loop("each", "[1, 2]", [call("bad", "test.fail", inputMapping={"i": expr("it")})])]
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "FAILED"
    assert out["error"]["category"] == "ActionError"
    assert out["error"]["code"] == "BOOM"
    assert out["error"]["nodePath"] == "root.steps[0].body.steps[0]"
    assert len(actions.called("test.fail")) == 1
    assert out["nodePath"] is None and out["completedAt"]


def test_foreach_items_must_be_an_array(engine, tenant, registry, actions):
    out = run(engine, tenant, registry, [loop("each", "'nope'", [call("x")])])
    assert out["status"] == "FAILED"
    assert out["error"]["message"] == "control.forEach items did not evaluate to an array"
    assert out["error"]["category"] == "ActionError"


def test_try_catch_with_capture_error_as_keeps_error_too(engine, tenant, registry, actions):
    failing(actions)
    steps = [
        {
            "id": "guard",
            "type": "control.tryCatch",
            "captureErrorAs": "caught",
            "try": [call("bad", "test.fail", inputMapping={"i": 7}), call("never")],
            "catch": [call("report", inputMapping={"code": expr("caught.code"),
                                                   "msg": expr("error.message")})],
        },
        call("after", inputMapping={"done": True}),
    ]  # fmt: skip
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    # Q1 fixed: `error` is still set in the catch branch even with captureErrorAs.
    assert actions.called("test.echo") == [{"code": "BOOM", "msg": "failed 7"}, {"done": True}]
    assert out["vars"]["caught"]["category"] == "ActionError"
    assert out["vars"]["caught"]["nodePath"] == "root.steps[0].try.steps[0]"


def test_try_catch_without_capture_and_nearest_try_wins(engine, tenant, registry, actions):
    failing(actions)
    inner = {
        "id": "inner",
        "type": "control.tryCatch",
        "try": [call("bad", "test.fail")],
        "catch": [call("inner-catch", inputMapping={"where": "inner",
                                                    "cat": expr("error.category")})],
    }  # fmt: skip
    steps = [
        {
            "id": "outer",
            "type": "control.tryCatch",
            "try": [loop("each", "[1]", [inner], onItemError="continue")],
            "catch": [call("outer-catch", inputMapping={"where": "outer"})],
        }
    ]
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"where": "inner", "cat": "ActionError"}]


def test_failure_in_catch_goes_to_the_outer_try(engine, tenant, registry, actions):
    failing(actions)
    steps = [
        {
            "id": "outer",
            "type": "control.tryCatch",
            "try": [
                {"id": "inner", "type": "control.tryCatch", "try": [call("b1", "test.fail")],
                 "catch": [call("b2", "test.fail")]},
            ],
            "catch": [call("outer-catch", inputMapping={"where": "outer"})],
        }
    ]  # fmt: skip
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"where": "outer"}]


def test_return_from_deep_inside_ends_the_run(engine, tenant, registry, actions):
    steps = [
        {
            "id": "guard",
            "type": "control.tryCatch",
            "try": [
                loop("each", "[1, 2, 3]", [
                    {"id": "stop", "type": "control.if", "condition": expr("it = 2"),
                     "then": [{"id": "ret", "type": "control.return"}]},
                    call("work", inputMapping={"i": expr("it")}),
                ]),
            ],
            "catch": [],
        },
        call("never", inputMapping={"i": 99}),
    ]  # fmt: skip
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"i": 1}]


def test_on_error_continue_sets_error_and_skips_save_as(engine, tenant, registry, actions):
    failing(actions)
    steps = [
        call("bad", "test.fail", saveAs="out", onError={"policy": "continue"}),
        call("next", inputMapping={"cat": expr("error.category"), "has": expr("vars.out ? 1 : 0")}),
    ]
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"cat": "ActionError", "has": 0}]
    assert out["steps"][0]["status"] == "SUCCEEDED"


def test_config_level_on_error_is_the_fallback(engine, tenant, registry, actions):
    failing(actions)
    step = call("bad", "test.fail")
    step["config"]["onError"] = {"policy": "continue"}
    assert run(engine, tenant, registry, [step])["status"] == "SUCCEEDED"


def test_meta_survives_save_as_and_meta_paths_write_vars(engine, tenant, registry, actions):
    steps = [
        {"id": "state", "type": "state.set", "config": {"state": "BUSY"}},
        call("c", saveAs="meta.saved"),  # Q2 kept: meta.x means vars.x
        call("d", saveAs="/a/b"),  # Q2 kept: a pointer means vars in the interpreter
        call("read", inputMapping={"state": expr("meta.state"), "run": expr("meta.runId")}),
    ]
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert "saved" in out["vars"] and out["vars"]["a"] == {"b": {"echo": {}}}
    # Q1 fixed: meta.state set by state.set is still there after the saveAs writes.
    assert actions.called("test.echo")[-1] == {"state": "BUSY", "run": out["runId"]}


def test_node_context_has_no_bare_names(engine, tenant, registry, actions):
    steps = [
        assign("seed", vars__x="1"),
        call("a", inputMapping={"bare": expr("x")}),  # context (A): bare vars resolve
        assign("b", vars__y="x"),  # context (B): no bare names, so this fails
    ]
    out = run(engine, tenant, registry, steps)
    assert actions.called("test.echo") == [{"bare": 1}]
    assert out["status"] == "FAILED"
    assert out["error"]["nodePath"] == "root.steps[2]"


def test_if_condition_must_be_boolean(engine, tenant, registry, actions):
    steps = [{"id": "c", "type": "control.if", "condition": expr("'yes'"), "then": []}]
    out = run(engine, tenant, registry, steps)
    assert out["status"] == "FAILED"
    assert out["error"]["message"] == "control.if condition must evaluate to a boolean"


def test_failing_expression_in_input_mapping_is_an_expression_error(
    engine, tenant, registry, actions
):
    out = run(engine, tenant, registry, [call("a", inputMapping={"v": expr("payload.missing")})])
    assert out["status"] == "FAILED"
    assert out["error"]["category"] == "ExpressionError"
    assert actions.calls == []


def test_transform_assign_runs_in_jsonb_key_order_on_every_database(engine, tenant, registry):
    """Entries run shorter-key-first (PostgreSQL JSONB order, as in Alga), whatever the storage."""
    step = {
        "id": "a",
        "type": "transform.assign",
        "config": {"assign": {"vars.bb": expr("vars.a + 1"), "vars.a": expr("1")}},
    }
    out = run(engine, tenant, registry, [step])
    assert out["status"] == "SUCCEEDED", out.get("error")
    assert out["vars"]["a"] == 1 and out["vars"]["bb"] == 2
    reversed_step = {
        **step,
        "config": {"assign": {"vars.bb": expr("1"), "vars.a": expr("vars.bb + 1")}},
    }
    out = run(engine, tenant, registry, [reversed_step], key="wf2")
    assert out["status"] == "FAILED"
    assert "not JSON-serializable" in out["error"]["message"]


def test_node_handlers_see_when_the_run_started(engine, tenant, registry):
    def copy_run(envelope, config, ctx):
        envelope["vars"]["run"] = envelope["run"]
        return envelope

    registry.nodes.register(NodeTypeDef("test.copy_run", {"type": "object"}, copy_run))
    out = run(engine, tenant, registry, [{"id": "n", "type": "test.copy_run", "config": {}}])
    started = out["vars"]["run"]["startedAt"]
    assert started == iso_millis(datetime.fromisoformat(out["startedAt"]))
    assert out["vars"]["run"] == {"id": out["runId"], "workflowId": out["workflowId"],
                                  "workflowVersion": 1, "startedAt": started}  # fmt: skip
