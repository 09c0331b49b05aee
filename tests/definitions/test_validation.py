"""Publish validation: the corpus validates cleanly, and every code of reference §5.2/§5.3 fires."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algaflow.definitions import codes
from algaflow.definitions.publish import validate_for_publish
from algaflow.definitions.schedule_rules import cron_problem, is_valid_timezone
from algaflow.definitions.validation import (
    duplicate_step_ids,
    uses_payload_root,
    validate_definition,
    validate_input_mapping,
)
from algaflow.registry import ActionDef, Registry, default_registry

NOW = datetime(2026, 1, 1, tzinfo=UTC)

DEMO_SCHEMA = {
    "type": "object",
    "properties": {
        "ticketId": {"type": "string"},
        "count": {"type": "integer"},
        "nested": {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "required": ["a"],
            "additionalProperties": False,
        },
    },
    "required": ["ticketId"],
    "additionalProperties": False,
}
SOURCE_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "n": {"type": "number"}},
    "required": ["id"],
}
SEND_INPUT = {
    "type": "object",
    "definitions": {
        "Addr": {
            "type": "object",
            "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
            "required": ["email"],
        }
    },
    "allOf": [
        {"properties": {"to": {"$ref": "#/definitions/Addr"}}, "required": ["to"]},
        {
            "properties": {"subject": {"type": "string"}, "count": {"type": "integer"}},
            "required": ["subject"],
        },
    ],
}
SEND_OUTPUT = {"type": "object", "properties": {"messageId": {"type": "string"}}}


def _noop(args: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {}


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = default_registry()
    reg.actions.register(ActionDef("demo.send", 1, SEND_INPUT, SEND_OUTPUT, _noop))
    reg.actions.register(ActionDef("ai.infer", 1, {"type": "object"}, {"type": "object"}, _noop))
    reg.schemas.register("payload.Demo.v1", DEMO_SCHEMA)
    reg.schemas.register("payload.Source.v1", SOURCE_SCHEMA)
    return reg


def _def(*steps: Any, **top: Any) -> dict[str, Any]:
    base = {
        "id": "wf",
        "version": 1,
        "name": "Demo",
        "payloadSchemaRef": "payload.Demo.v1",
        "steps": list(steps),
    }
    return {**base, **top}


def _send(step_id: str = "send", **config: Any) -> dict[str, Any]:
    mapping = {"to": {"email": "a@b.c"}, "subject": "Hi"}
    body = {"actionId": "demo.send", "version": 1, "inputMapping": mapping, **config}
    return {"id": step_id, "type": "action.call", "config": body}


def _assign(**assign: Any) -> dict[str, Any]:
    return {"id": "assign", "type": "transform.assign", "config": {"assign": assign}}


def _if(condition: str, *then: Any) -> dict[str, Any]:
    return {"id": "if", "type": "control.if", "condition": {"$expr": condition}, "then": list(then)}


def _wait(**config: Any) -> dict[str, Any]:
    base = {"eventName": "TICKET_UPDATED", "correlationKey": {"$expr": "payload.ticketId"}}
    return {"id": "wait", "type": "event.wait", "config": {**base, **config}}


def _event(**trigger: Any) -> dict[str, Any]:
    return {"type": "event", "eventName": "TICKET_CREATED", **trigger}


def _codes(result: Any) -> set[str]:
    return {i["code"] for i in result.errors + result.warnings}


def _run(registry: Registry, definition: Any, **kw: Any) -> Any:
    return validate_definition(definition, registry, now=NOW, **kw)


# --- the corpus ------------------------------------------------------------------------------


def test_every_corpus_definition_validates_without_errors(corpus_definitions, corpus_registry):
    failures = {}
    for label, definition in corpus_definitions:
        result = validate_definition(definition, corpus_registry)
        if result.errors:
            failures[label] = result.errors
        # Only the documented always-on event.wait warning may appear.
        assert _codes(result) <= {codes.EVENT_WAIT_CORRELATION_CONTRACT}, label
    assert failures == {}


# --- one case per code -----------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (codes.INVALID_WORKFLOW_DEFINITION, _def(version=0), {}),
    (codes.NON_SERIALIZABLE, _def(_if("true", {"id": "x", "type": "x.y", "config": {1, 2}})), {}),
    (
        codes.DUPLICATE_STEP_ID,
        _def({"id": "a", "type": "control.return"}, {"id": "a", "type": "control.return"}),
        {},
    ),
    (codes.INVALID_EXPR, _def(_if("$eval('1')")), {}),
    (codes.UNKNOWN_NODE_TYPE, _def({"id": "s", "type": "state.sett", "config": {}}), {}),
    (codes.INVALID_CONFIG, _def({"id": "s", "type": "state.set", "config": {"state": ""}}), {}),
    (
        codes.INVALID_ACTION_CONFIG,
        _def({"id": "c", "type": "action.call", "config": {"inputMapping": {}}}),
        {},
    ),
    (codes.UNKNOWN_ACTION, _def(_send(version=2)), {}),
    (codes.EMPTY_EXPRESSION, _def(_send(inputMapping={"to": {"$expr": " "}})), {}),
    (codes.INVALID_EXPRESSION, _def(_send(inputMapping={"subject": {"$expr": "$eval('')"}})), {}),
    (codes.INVALID_SECRET_NAME, _def(_send(inputMapping={"subject": {"$secret": "lower"}})), {}),
    (codes.MISSING_REQUIRED_MAPPING, _def(_send(inputMapping={"to": {"name": "x"}})), {}),
    (
        codes.INVALID_AI_OUTPUT_SCHEMA,
        _def(_send(actionId="ai.infer", aiOutputSchema={"type": "string"})),
        {},
    ),
    (codes.INVALID_ASSIGN_PATH, _def(_assign(foo={"$expr": "1"})), {}),
    (codes.EVENT_WAIT_UNCORRELATABLE, _def(_wait()), {"correlation_paths": {}}),
    (codes.TIME_TRIGGER_RUN_AT_REQUIRED, _def(trigger={"type": "schedule", "runAt": ""}), {}),
    (
        codes.TIME_TRIGGER_INVALID_RUN_AT,
        _def(trigger={"type": "schedule", "runAt": "2025-12-31T23:59:59Z"}),
        {},
    ),
    (
        codes.TIME_TRIGGER_INVALID_CRON,
        _def(trigger={"type": "recurring", "cron": "* * * * *", "timezone": "UTC"}),
        {},
    ),
    (
        codes.TIME_TRIGGER_INVALID_TIMEZONE,
        _def(trigger={"type": "recurring", "cron": "0 9 * * 1", "timezone": "Mars/Olympus"}),
        {},
    ),
    (codes.PAYLOAD_SCHEMA_REF_MISSING, _def(payloadSchemaRef=""), {}),
    (codes.PAYLOAD_SCHEMA_REF_UNKNOWN, _def(payloadSchemaRef="payload.Dem.v1"), {}),
    (codes.UNKNOWN_PAYLOAD_SCHEMA_REF, _def(payloadSchemaRef="payload.Dem.v1"), {}),
    (
        codes.UNKNOWN_TRIGGER_EVENT,
        _def(trigger=_event(eventName="TICKET_CREATD")),
        {"event_catalog": {"TICKET_CREATED": "payload.Demo.v1"}},
    ),
    (
        codes.UNKNOWN_TRIGGER_SOURCE_SCHEMA_REF,
        _def(trigger=_event(sourcePayloadSchemaRef="payload.Nope.v1")),
        {},
    ),
    (
        codes.TRIGGER_MAPPING_REQUIRED,
        _def(trigger=_event(sourcePayloadSchemaRef="payload.Source.v1")),
        {},
    ),
    (
        codes.TRIGGER_MAPPING_INVALID_ROOT,
        _def(trigger=_event(payloadMapping={"ticketId": {"$expr": "payload.id"}})),
        {},
    ),
    (
        codes.TRIGGER_MAPPING_MISSING_REQUIRED_FIELDS,
        _def(trigger=_event(payloadMapping={"count": 1})),
        {},
    ),
    (
        codes.MAPPING_TYPE_INCOMPATIBLE,
        _def(trigger=_event(payloadMapping={"ticketId": 5})),
        {},
    ),
    (
        codes.SECRET_NOT_FOUND,
        _def(_send(inputMapping={"to": {"email": {"$secret": "SMTP_TO"}}, "subject": "x"})),
        {"known_secrets": {"OTHER"}},
    ),
    (
        codes.UNKNOWN_SPECIAL_KEY,
        _def(_send(inputMapping={"to": {"$email": 1}, "subject": "s"})),
        {},
    ),
    (codes.ASSIGN_PATH_UNKNOWN, _def(_assign(**{"payload.nope": {"$expr": "1"}})), {}),
    (codes.EVENT_WAIT_CORRELATION_CONTRACT, _def(_wait()), {}),
    (
        codes.MAPPING_TYPE_UNKNOWN,
        _def(_send(inputMapping={"to": {"email": "x"}, "subject": {"$expr": "payload.gone"}})),
        {},
    ),
    (
        codes.UNKNOWN_MAPPING_FIELD,
        _def(_send(inputMapping={"to": {"email": "x"}, "subject": "s", "subjct": "t"})),
        {},
    ),
]


@pytest.mark.parametrize(("code", "definition", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_code_is_triggered(registry, code, definition, kwargs):
    result = _run(registry, definition, **kwargs)
    found = [i for i in result.errors + result.warnings if i["code"] == code]
    assert found, (result.errors, result.warnings)
    expected = "warning" if code in codes.WARNING_CODES else "error"
    assert all(i["severity"] == expected for i in found)
    assert (result.ok, result.status) == (
        (True, "warning") if expected == "warning" and not result.errors else (False, "error")
    )


def test_unknown_secret_and_inference_codes_are_triggered(registry):
    found = validate_input_mapping({"k": {"$secret": "API_KEY"}}, known_secrets={"OTHER"})
    assert [(i["code"], i["severity"]) for i in found] == [(codes.UNKNOWN_SECRET, "warning")]
    refused = validate_for_publish(_def(), registry, payload_schema_mode="inferred")
    assert refused["ok"] is False
    assert [e["code"] for e in refused["errors"]] == [
        codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER
    ]


def test_validate_for_publish_keeps_time_triggers_and_infers_refs(registry):
    trigger = {"type": "recurring", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"}
    assert validate_for_publish(_def(trigger=trigger), registry) == {
        "ok": True,
        "errors": [],
        "warnings": [],
    }
    bad_cron = validate_for_publish(_def(trigger={**trigger, "cron": "*/2 * * * *"}), registry)
    assert [e["code"] for e in bad_cron["errors"]] == [codes.TIME_TRIGGER_INVALID_CRON]
    inferred = _def(
        payloadSchemaRef="payload.Missing.v1",
        trigger=_event(sourcePayloadSchemaRef="payload.Source.v1"),
    )
    assert validate_for_publish(inferred, registry)["ok"] is False
    assert validate_for_publish(inferred, registry, payload_schema_mode="inferred")["ok"] is True


def test_every_code_has_a_case():
    covered = {c for c, _, _ in CASES} | {
        codes.UNKNOWN_SECRET,
        codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER,
    }
    assert covered == codes.ERROR_CODES | codes.WARNING_CODES


# --- details of individual checks ------------------------------------------------------------


def test_valid_definition_has_no_issues_and_a_context(registry):
    definition = _def(
        _send(saveAs="vars.sent"),
        _assign(
            **{"payload.ticketId": {"$expr": "vars.sent.messageId"}, "/nested/a": {"$expr": "'x'"}}
        ),
        trigger=_event(
            sourcePayloadSchemaRef="payload.Source.v1",
            payloadMapping={"ticketId": {"$expr": "event.payload.id"}, "nested.a": "lit"},
        ),
    )
    result = _run(registry, definition)
    assert (result.errors, result.warnings, result.status) == ([], [], "valid")
    assert result.context["payloadSchemaRef"] == "payload.Demo.v1"
    assert len(result.context["payloadSchemaHash"]) == 64
    assert result.context["triggerSourceSchemaRef"] == "payload.Source.v1"
    assert result.context["triggerSchemaRefStatus"] == "known"


def test_issue_shape_carries_step_path_and_id(registry):
    definition = _def(_if("true", {"id": "inner", "type": "nope.x", "config": {}}))
    (found,) = _run(registry, definition).errors
    assert found == {
        "severity": "error",
        "stepPath": "root.steps[0].then.steps[0]",
        "stepId": "inner",
        "code": codes.UNKNOWN_NODE_TYPE,
        "message": 'Unknown node type "nope.x"',
    }


def test_schema_issues_point_at_the_enclosing_step(registry):
    definition = _def(_if("true", {"id": "r", "type": "control.return", "name": "x"}))
    (found,) = _run(registry, definition).errors
    assert found["code"] == codes.INVALID_WORKFLOW_DEFINITION
    assert found["stepPath"] == "root.steps[0].then.steps[0]"
    assert "Unrecognized key(s) in object: 'name'" in found["message"]


def test_disallowed_function_gets_a_suggestion(registry):
    (found,) = _run(registry, _def(_if("$string(1)"))).errors
    assert found["code"] == codes.INVALID_EXPR
    assert found["suggestion"] == 'Did you mean "toString"?'
    assert found["message"].endswith('Did you mean "toString"?')


def test_unknown_action_suggestions(registry):
    wrong_version = _run(registry, _def(_send(version=3))).errors
    assert wrong_version[0]["suggestion"] == 'Action "demo.send" exists at version(s) 1.'
    typo = _run(registry, _def(_send(actionId="demo.sendd"))).errors
    assert typo[0]["suggestion"] == 'Did you mean "demo.send"?'


def test_unknown_payload_schema_ref_suggests_a_registered_ref(registry):
    found = {i["code"]: i for i in _run(registry, _def(payloadSchemaRef="payload.Dem.v1")).errors}
    assert (
        found[codes.UNKNOWN_PAYLOAD_SCHEMA_REF]["suggestion"] == 'Did you mean "payload.Demo.v1"?'
    )
    assert "suggestion" not in found[codes.PAYLOAD_SCHEMA_REF_UNKNOWN]


def test_invalid_mapping_expression_is_reported_twice_like_alga(registry):
    bad = _def(_send(inputMapping={"to": {"email": "x"}, "subject": {"$expr": "$eval('')"}}))
    assert {codes.INVALID_EXPR, codes.INVALID_EXPRESSION} <= _codes(_run(registry, bad))


def test_missing_required_mapping_follows_refs_allof_and_literal_objects(registry):
    found = _run(registry, _def(_send(inputMapping={"to": {"name": "x"}})))
    messages = sorted(
        i["message"] for i in found.errors if i["code"] == codes.MISSING_REQUIRED_MAPPING
    )
    assert messages == [
        'Missing required input "subject" for action demo.send@1',
        'Missing required input "to.email" for action demo.send@1',
    ]
    as_expr = _run(registry, _def(_send(inputMapping={"to": {"$expr": "x"}, "subject": "s"})))
    assert codes.MISSING_REQUIRED_MAPPING not in _codes(as_expr)


def test_node_step_without_config_is_not_checked(registry):
    # Alga checks a node's config only when there is one (the step then fails at runtime).
    result = _run(registry, _def({"id": "s", "type": "action.call"}))
    assert result.errors == []


def test_action_call_config_accepts_designer_and_ai_fields(registry):
    extra = {
        "designerGroupKey": "g",
        "designerTileKind": "ai",
        "designerAppKey": "a",
        "aiOutputSchemaMode": "advanced",
        "aiOutputSchemaText": '{"type": "object", "properties": {"x": {"type": "string"}}}',
    }
    assert _run(registry, _def(_send(actionId="ai.infer", **extra))).errors == []
    result = _run(registry, _def(_send(surprise=1)))
    assert [i["code"] for i in result.errors] == [codes.INVALID_CONFIG]


def test_assign_path_unknown_reads_through_the_wrapped_schema(registry):
    # Alga's quirk warns on every payload path (it reads root "properties" of the wrapped
    # snapshot); algaflow follows the $ref, so declared paths do not warn.
    known = _assign(**{"payload.ticketId": {"$expr": "1"}, "/nested/a": {"$expr": "'x'"}})
    assert _run(registry, _def(known)).warnings == []
    unknown = _run(registry, _def(_assign(**{"/nested/b": {"$expr": "1"}}))).warnings
    assert [i["code"] for i in unknown] == [codes.ASSIGN_PATH_UNKNOWN]


def test_time_wait_assign_is_checked_but_event_wait_only_for_scope(registry):
    time_wait = {
        "id": "t",
        "type": "time.wait",
        "config": {"mode": "duration", "durationMs": 5, "assign": {"payload.x": {"$expr": "1"}}},
    }
    assert _codes(_run(registry, _def(time_wait))) == {codes.ASSIGN_PATH_UNKNOWN}
    wait = _wait(assign={"payload.x": {"$expr": "1"}, "bad": {"$expr": "1"}})
    assert _codes(_run(registry, _def(wait))) == {
        codes.INVALID_ASSIGN_PATH,
        codes.EVENT_WAIT_CORRELATION_CONTRACT,
    }


def test_event_wait_contract_names_the_correlation_fields(registry):
    (warning,) = _run(registry, _def(_wait())).warnings
    assert "ticketId, clientId, invoiceId, projectId, paymentId" in warning["message"]


def test_trigger_without_catalog_uses_the_workflow_schema(registry):
    result = _run(registry, _def(trigger=_event()))
    assert (result.errors, result.warnings) == ([], [])
    assert result.context["triggerSourceSchemaRef"] == "payload.Demo.v1"
    with_catalog = _run(
        registry,
        _def(trigger=_event()),
        event_catalog={"TICKET_CREATED": "payload.Source.v1"},
    )
    assert _codes(with_catalog) == {codes.TRIGGER_MAPPING_REQUIRED}


def test_trigger_mapping_type_checks_use_the_source_schema(registry):
    mapping = {"ticketId": {"$expr": "event.payload.n"}, "count": {"$expr": "event.payload.zz"}}
    trigger = _event(sourcePayloadSchemaRef="payload.Source.v1", payloadMapping=mapping)
    result = _run(registry, _def(trigger=trigger))
    assert sorted(i["code"] for i in result.errors + result.warnings) == [
        codes.MAPPING_TYPE_INCOMPATIBLE,
        codes.MAPPING_TYPE_UNKNOWN,
    ]


def test_action_type_check_uses_earlier_outputs_and_alga_step_path(registry):
    steps = [
        _send("first", saveAs="sent"),
        _send(
            "second",
            inputMapping={
                "to": {"email": "x"},
                "subject": "s",
                "count": {"$expr": "vars.sent.messageId"},
            },
        ),
    ]
    (found,) = _run(registry, _def(*steps)).errors
    assert found["code"] == codes.MAPPING_TYPE_INCOMPATIBLE
    assert found["stepPath"] == "root.steps.second.config.inputMapping"


def test_secret_refs_are_collected(registry):
    mapping = {"to": {"email": {"$secret": "SMTP_TO"}}, "subject": {"$secret": "SUBJ"}}
    result = _run(registry, _def(_send(inputMapping=mapping)), known_secrets={"SMTP_TO", "SUBJ"})
    assert result.secret_refs == {"SMTP_TO", "SUBJ"}
    assert result.errors == []


def test_duplicate_ids_in_separate_branches_are_allowed():
    branch = {
        "id": "if",
        "type": "control.if",
        "condition": {"$expr": "true"},
        "then": [{"id": "notify", "type": "x"}],
        "else": [{"id": "notify", "type": "x"}, {"id": "if", "type": "x"}],
    }
    assert list(duplicate_step_ids([branch])) == [("root.steps[0].else.steps[1]", "if")]


@pytest.mark.parametrize(
    ("cron", "ok"),
    [
        ("0 9 * * 1-5", True),
        ("*/5 * * * *", True),
        ("* 9 * * *", True),
        ("*/15,0 0-6 1 1,6 *", True),
        ("* * * * *", False),
        ("*/4 * * * *", False),
        ("0 9 1 * 1", False),
        ("0 9 * *", False),
        ("0 9 * * MON", False),
        ("60 9 * * *", False),
        ("*/0 9 * * *", False),
        ("0 " * 80, False),
    ],
)
def test_cron_rules(cron, ok):
    assert (cron_problem(cron) is None) is ok


def test_timezones():
    assert is_valid_timezone("Europe/Berlin") and is_valid_timezone("UTC")
    assert not any(map(is_valid_timezone, ["", "Mars/Olympus", "../etc/passwd", None, "/UTC"]))


def test_payload_root_detection_ignores_strings_and_event_paths():
    assert uses_payload_root("payload.id") and uses_payload_root("x & payload .y")
    assert not uses_payload_root("event.payload.id")
    assert not uses_payload_root("'payload.id' & \"payload.x\"")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
step_values = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b"]),
        "type": st.sampled_from(
            ["action.call", "transform.assign", "event.wait", "time.wait", "control.if", "x"]
        ),
    },
    optional={
        "config": json_values
        | st.fixed_dictionaries(
            {
                "actionId": st.sampled_from(["demo.send", "ai.infer", "nope"]),
                "version": st.sampled_from([1, "1", None, 2]),
            },
            optional={
                "inputMapping": json_values,
                "assign": json_values,
                "saveAs": json_values,
                "aiOutputSchema": json_values,
            },
        ),
        "then": st.lists(json_values, max_size=2),
        "condition": json_values,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        json_values,
        st.builds(lambda s, t: _def(*s, trigger=t), st.lists(step_values, max_size=3), json_values),
    )
)
def test_any_json_is_answered_with_data(registry, value):
    result = validate_definition(value, registry, now=NOW)
    assert all(i["severity"] == "error" for i in result.errors)
    assert result.status in ("valid", "warning", "error")


def test_a_mapped_field_the_action_does_not_know_is_a_warning_with_a_suggestion(registry):
    """The action would drop it: publish warns (it does not block), naming the inputs."""
    mapping = {"to": {"email": "x"}, "subject": "s", "subjct": "t"}
    result = _run(registry, _def(_send(inputMapping=mapping)))
    assert result.ok and not result.errors
    (warning,) = [w for w in result.warnings if w["code"] == codes.UNKNOWN_MAPPING_FIELD]
    assert '"subjct"' in warning["message"] and "subject" in warning["message"]
    assert warning["suggestion"] and "subject" in warning["suggestion"]
    known = _run(registry, _def(_send()))
    assert codes.UNKNOWN_MAPPING_FIELD not in [w["code"] for w in known.warnings]
