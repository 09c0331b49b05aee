"""An action's own idempotency key: two runs making the same call cause one side effect."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import ActionDef
from algaflow.services.runs import start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_action_invocations

from .conftest import ANY_OBJECT, call, expr, publish

NOTIFY_INPUT = {
    "type": "object",
    "properties": {"to": {"type": "string"}, "dedupe_key": {"type": "string"}},
    "required": ["to"],
}


@pytest.fixture
def sent(registry):
    """A notification action de-duplicated by its ``dedupe_key``; the list of what it sent."""
    outbox: list[dict] = []

    def send(args, ctx):
        outbox.append(args)
        return {"messageId": f"m-{len(outbox)}", "key": ctx.idempotency_key}

    registry.actions.register(ActionDef(
        "notify.send", 1, NOTIFY_INPUT, ANY_OBJECT, send, side_effectful=True,
        idempotency_key_field="dedupe_key",
    ))  # fmt: skip
    return outbox


def _runs(engine, tenant, registry, steps, payloads, key="wf"):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, key=key)
    outs = []
    for payload in payloads:
        outs.append(start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload=payload))
    return outs


def _notify(**config):
    return call("n", "notify.send", saveAs="sent", **config)


def test_two_runs_sending_one_notification_send_it_once(engine, tenant, registry, sent):
    step = _notify(inputMapping={"to": "ops@example.com",
                                 "dedupe_key": expr("'ticket-' & payload.ticketId")})  # fmt: skip
    first, second = _runs(engine, tenant, registry, [step], [{"ticketId": "7"}] * 2)
    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert len(sent) == 1
    assert second["vars"]["sent"] == first["vars"]["sent"]  # the cached output
    assert first["vars"]["sent"]["key"] == f"{tenant}:ticket-7"
    with engine.connect() as conn:
        rows = conn.execute(sa.select(workflow_action_invocations)).mappings().all()
    assert [(r["idempotency_key"], r["status"]) for r in rows] == [
        (f"{tenant}:ticket-7", "SUCCEEDED")
    ]


def test_different_keys_and_no_key_each_send(engine, tenant, registry, sent):
    step = _notify(inputMapping={"to": "ops@example.com", "dedupe_key": expr("payload.ticketId")})
    _runs(engine, tenant, registry, [step], [{"ticketId": "1"}, {"ticketId": "2"}])
    assert len(sent) == 2
    keyless = _notify(inputMapping={"to": "ops@example.com"})
    _runs(engine, tenant, registry, [keyless], [{}, {}], key="keyless")
    assert len(sent) == 4  # no dedupe_key: the engine's per-run key


def test_a_steps_explicit_key_wins(engine, tenant, registry, sent):
    step = _notify(inputMapping={"to": "a", "dedupe_key": expr("payload.ticketId")},
                   idempotencyKey=expr("'explicit-' & payload.ticketId"))  # fmt: skip
    first, _ = _runs(engine, tenant, registry, [step], [{"ticketId": "1"}] * 2)
    assert first["vars"]["sent"]["key"] == f"{tenant}:explicit-1" and len(sent) == 1


def test_a_key_function_of_the_input(engine, tenant, registry):
    calls = []
    registry.actions.register(ActionDef(
        "mail.send", 1, ANY_OBJECT, ANY_OBJECT, lambda args, ctx: calls.append(args) or {},
        side_effectful=True, idempotency="actionProvided",
        idempotency_key=lambda args, ctx: f"{args['to']}|{args['subject']}",
    ))  # fmt: skip
    step = call("m", "mail.send", inputMapping={"to": "x@example.com", "subject": "Hi"})
    _runs(engine, tenant, registry, [step], [{}, {}, {}])
    assert len(calls) == 1


def test_a_failing_key_function_fails_the_step_with_a_code(engine, tenant, registry):
    def broken(args, ctx):
        raise KeyError("subject")

    registry.actions.register(
        ActionDef("mail.broken", 1, ANY_OBJECT, ANY_OBJECT, lambda a, c: {}, idempotency_key=broken)
    )
    (out,) = _runs(engine, tenant, registry, [call("m", "mail.broken")], [{}])
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_a_foreach_body_with_unchanged_input_runs_once_per_run(engine, tenant, registry, actions):
    """What docs/runtime.md says: same path, same input -> the cached output; the index in the
    input makes each iteration its own call."""
    body = [call("same", inputMapping={"x": 1}),
            call("distinct", "test.other", inputMapping={"item": expr("it")}),
            call("indexed", "test.indexed", inputMapping={"i": expr("local.index")})]  # fmt: skip
    loop = {"id": "each", "type": "control.forEach", "items": expr("[1, 2, 3]"), "itemVar": "it",
            "body": body}  # fmt: skip
    actions.add("test.other")
    actions.add("test.indexed")
    _runs(engine, tenant, registry, [loop], [{}])
    assert len(actions.called("test.echo")) == 1
    assert actions.called("test.other") == [{"item": 1}, {"item": 2}, {"item": 3}]
    assert actions.called("test.indexed") == [{"i": 0}, {"i": 1}, {"i": 2}]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"idempotency_key": lambda a, c: "k", "idempotency_key_field": "k"}, "not both"),
        ({"idempotency_key_field": "a..b"}, "dotted field name"),
        ({"idempotency_key": "k"}, "must be callable"),
        ({"idempotency_key_field": "k", "idempotency": "engineProvided"}, "actionProvided"),
    ],
)
def test_bad_key_declarations_are_refused(registry, fields, problem):
    with pytest.raises(AlgaflowError) as caught:
        registry.actions.register(
            ActionDef("bad.key", 1, ANY_OBJECT, ANY_OBJECT, lambda a, c: {}, **fields)
        )
    assert caught.value.code == "REGISTRY_INVALID" and problem in caught.value.message


def test_a_key_declaration_is_enough_for_a_side_effectful_action(registry):
    action = ActionDef("ok.key", 1, ANY_OBJECT, ANY_OBJECT, lambda a, c: {},
                       side_effectful=True, idempotency_key_field="id")  # fmt: skip
    registry.actions.register(action)
    assert registry.actions.get("ok.key", 1) is not None
