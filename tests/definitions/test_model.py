"""The strict definition model: the corpus passes; each rule of §1 refuses, with a path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.api.statuses import status_for
from algaflow.definitions.model import (
    FOREACH_CONCURRENCY_MESSAGE,
    definition_issues,
    parse_definition,
)
from algaflow.kernel.errors import AlgaflowError


def _definition(*steps: Any, **top: Any) -> dict[str, Any]:
    base = {
        "id": "wf-1",
        "version": 1,
        "name": "Demo",
        "payloadSchemaRef": "payload.Empty.v1",
        "steps": list(steps),
    }
    return {**base, **top}


def _messages(definition: Any) -> dict[str, str]:
    return {i["path"]: i["message"] for i in definition_issues(definition)}


def test_every_corpus_definition_passes_unchanged(corpus_definitions):
    failures = {label: definition_issues(d) for label, d in corpus_definitions}
    assert {k: v for k, v in failures.items() if v} == {}
    for _, definition in corpus_definitions:
        # The corpus has no retry policies or odd Exprs, so normalising changes nothing.
        assert parse_definition(definition) == definition


def test_parse_normalises_exprs_and_fills_retry_defaults():
    step = {
        "id": "call",
        "type": "action.call",
        "config": {"anything": True},
        "retry": {"maxAttempts": 3, "backoffMs": 100},
    }
    branch = {"id": "if", "type": "control.if", "condition": {"$expr": "true", "x": 1}, "then": []}
    loop = {"id": "each", "type": "control.forEach", "items": {}, "itemVar": "i", "body": [step]}
    parsed = parse_definition(_definition(branch, loop, version=2.0))
    assert parsed["version"] == 2 and isinstance(parsed["version"], int)
    assert parsed["steps"][0]["condition"] == {"$expr": "true"}
    assert parsed["steps"][1]["items"] == {"$expr": ""}
    retry = parsed["steps"][1]["body"][0]["retry"]
    assert retry == {"maxAttempts": 3, "backoffMs": 100, "backoffMultiplier": 2, "jitter": True}
    # Node configs are not the definition schema's business: kept exactly as written.
    assert parsed["steps"][1]["body"][0]["config"] == {"anything": True}


def test_parse_does_not_modify_its_input():
    definition = _definition({"id": "if", "type": "control.if", "condition": {}, "then": []})
    before = copy.deepcopy(definition)
    parse_definition(definition)
    assert definition == before


def test_trigger_payload_mapping_normalises_exprs_and_keeps_literals():
    mapping = {
        "a": {"$expr": "event.payload.a", "junk": 1},
        "b": {"$secret": "API_KEY"},
        "c": {"nested": {"$expr": "x", "junk": 1}},
        "d": [1, 2],
    }
    trigger = {"type": "event", "eventName": "E", "payloadMapping": mapping}
    parsed = parse_definition(_definition(trigger=trigger))
    assert parsed["trigger"]["payloadMapping"] == {
        "a": {"$expr": "event.payload.a"},
        "b": {"$secret": "API_KEY"},
        "c": {"nested": {"$expr": "x", "junk": 1}},
        "d": [1, 2],
    }


def test_parse_raises_with_every_issue_and_its_path():
    bad = _definition({"id": "x"}, extra=True, version=0)
    with pytest.raises(AlgaflowError) as caught:
        parse_definition(bad)
    err = caught.value
    assert err.code == "INVALID_WORKFLOW_DEFINITION" and status_for(err.code) == 400
    paths = [i["path"] for i in err.details["issues"]]
    assert paths == ["root", "root.version", "root.steps[0]"]
    assert "(and 2 more)" in err.message


@pytest.mark.parametrize(
    ("definition", "path", "message"),
    [
        ({"version": 1}, "root.id", "Required"),
        (_definition(id=""), "root.id", "String must contain at least 1 character(s)"),
        (_definition(version=1.5), "root.version", "Expected integer, received float"),
        (_definition(version=True), "root.version", "Expected number, received boolean"),
        (_definition(version=-1), "root.version", "Number must be greater than 0"),
        (_definition(description=None), "root.description", "Expected string, received null"),
        (_definition(steps={}), "root.steps", "Expected array, received object"),
        (_definition(vars={}), "root", "Unrecognized key(s) in object: 'vars'"),
        (_definition(["x"]), "root.steps[0]", "Expected object, received array"),
        (_definition({"id": "a"}), "root.steps[0]", "Step must have a type field"),
        (_definition({"id": "a", "type": ""}), "root.steps[0]", "Step must have a type field"),
        (
            _definition({"id": "a", "type": 5}),
            "root.steps[0].type",
            "Expected string, received number",
        ),
        (
            _definition({"id": "r", "type": "control.return", "name": "Stop"}),
            "root.steps[0]",
            "Unrecognized key(s) in object: 'name'",
        ),
        (
            _definition({"id": "r", "type": "control.loop"}),
            "root.steps[0].type",
            'Unknown control block type "control.loop": node step types cannot start with '
            '"control."',
        ),
        (
            _definition({"id": "", "type": "state.set"}),
            "root.steps[0].id",
            "String must contain at least 1 character(s)",
        ),
        (
            _definition(
                {
                    "id": "if",
                    "type": "control.if",
                    "condition": {"$expr": "true"},
                    "then": [{"id": "t", "type": "control.tryCatch", "try": []}],
                }
            ),
            "root.steps[0].then.steps[0].catch",
            "Required",
        ),
        (
            _definition(
                {
                    "id": "f",
                    "type": "control.forEach",
                    "items": {"$expr": "[]"},
                    "itemVar": "i",
                    "body": [],
                    "concurrency": 2,
                }
            ),
            "root.steps[0].concurrency",
            FOREACH_CONCURRENCY_MESSAGE,
        ),
        (
            _definition(
                {
                    "id": "f",
                    "type": "control.forEach",
                    "items": {"$expr": "[]"},
                    "itemVar": "i",
                    "body": [],
                    "onItemError": "skip",
                }
            ),
            "root.steps[0].onItemError",
            "Invalid enum value. Expected 'continue' | 'fail', received 'skip'",
        ),
        (
            _definition({"id": "c", "type": "control.if", "condition": 1, "then": []}),
            "root.steps[0].condition",
            "Expected object, received number",
        ),
        (
            _definition({"id": "c", "type": "control.if", "condition": {"$expr": 1}, "then": []}),
            "root.steps[0].condition.$expr",
            "Expected string, received number",
        ),
        (
            _definition({"id": "c", "type": "control.callWorkflow", "workflowId": "w"}),
            "root.steps[0].workflowVersion",
            "Required",
        ),
        (
            _definition(
                {
                    "id": "c",
                    "type": "control.callWorkflow",
                    "workflowId": "w",
                    "workflowVersion": 1,
                    "inputMapping": {"a": "literal"},
                }
            ),
            "root.steps[0].inputMapping.a",
            "Expected object, received string",
        ),
        (
            _definition({"id": "n", "type": "x.y", "retry": {"maxAttempts": 1}}),
            "root.steps[0].retry.backoffMs",
            "Required",
        ),
        (
            _definition({"id": "n", "type": "x.y", "retry": {"maxAttempts": 1, "backoffMs": -1}}),
            "root.steps[0].retry.backoffMs",
            "Number must be greater than or equal to 0",
        ),
        (
            _definition({"id": "n", "type": "x.y", "onError": {"policy": "retry"}}),
            "root.steps[0].onError.policy",
            "Invalid enum value. Expected 'fail' | 'continue', received 'retry'",
        ),
        (_definition({"id": "w", "type": "event.wait"}), "root.steps[0].config", "Required"),
        (
            _definition({"id": "w", "type": "time.wait", "config": {"mode": "duration"}}),
            "root.steps[0].config.durationMs",
            'durationMs is required when mode is "duration"',
        ),
        (
            _definition({"id": "w", "type": "time.wait", "config": {"mode": "until"}}),
            "root.steps[0].config.until",
            'until is required when mode is "until"',
        ),
        (
            _definition(
                {
                    "id": "w",
                    "type": "time.wait",
                    "config": {"mode": "duration", "durationMs": 2**53},
                }
            ),
            "root.steps[0].config.durationMs",
            "Number must be less than or equal to 9007199254740991",
        ),
        (
            _definition(trigger={"type": "cron"}),
            "root.trigger.type",
            "Invalid discriminator value. Expected 'event' | 'schedule' | 'recurring'",
        ),
        (
            _definition(trigger={"type": "recurring", "cron": "0 * * * *"}),
            "root.trigger.timezone",
            "Required",
        ),
        (
            _definition(trigger={"type": "event", "eventName": "E", "x": 1}),
            "root.trigger",
            "Unrecognized key(s) in object: 'x'",
        ),
        (
            _definition(
                trigger={
                    "type": "event",
                    "eventName": "E",
                    "payloadMapping": {"a": {"$secret": ""}},
                }
            ),
            "root.trigger.payloadMapping.a.$secret",
            "String must contain at least 1 character(s)",
        ),
    ],
)
def test_rule_refuses_with_path_and_message(definition, path, message):
    assert _messages(definition).get(path) == message


def _wait(filters: list[dict[str, Any]]) -> dict[str, Any]:
    config = {"eventName": "E", "correlationKey": {"$expr": "payload.id"}, "filters": filters}
    return _definition({"id": "w", "type": "event.wait", "config": config})


@pytest.mark.parametrize(
    ("flt", "problem"),
    [
        ({"path": "a", "op": "in", "value": [1]}, None),
        ({"path": "a", "op": "in", "value": 1}, 'value must be an array for op "in"'),
        ({"path": "a", "op": "exists"}, None),
        ({"path": "a", "op": "not_exists", "value": 1}, 'value is not allowed for op "not_exists"'),
        ({"path": "a", "op": "=", "value": None}, None),
        (
            {"path": "a", "op": "=", "value": [1]},
            'value must be a string, number, boolean or null for op "="',
        ),
        ({"path": "a", "op": ">="}, 'value must be a string, number, boolean or null for op ">="'),
        ({"path": "a", "op": "contains", "value": "x"}, None),
        ({"path": "a", "op": "ends_with", "value": 1}, 'value must be a string for op "ends_with"'),
    ],
)
def test_event_wait_filter_rules(flt, problem):
    found = _messages(_wait([flt])).get("root.steps[0].config.filters[0].value")
    assert found == problem


def test_issue_paths_nest_through_every_branch():
    inner = {"id": "bad"}
    tree = {
        "id": "t",
        "type": "control.tryCatch",
        "try": [],
        "catch": [
            {"id": "f", "type": "control.forEach", "items": {}, "itemVar": "i", "body": [inner]}
        ],
    }
    branch = {"id": "if", "type": "control.if", "condition": {}, "then": [], "else": [tree]}
    assert _messages(_definition({"id": "r", "type": "control.return"}, branch)) == {
        "root.steps[1].else.steps[0].catch.steps[0].body.steps[0]": "Step must have a type field"
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=15,
)


@given(
    st.dictionaries(
        st.sampled_from(["id", "version", "name", "steps", "trigger", "x"]), json_values
    )
)
def test_any_json_gives_issues_or_a_parse_never_a_crash(value):
    issues = definition_issues(value)
    if issues:
        with pytest.raises(AlgaflowError):
            parse_definition(value)
    else:
        assert parse_definition(value)["name"] == value["name"]


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(min_size=1, max_size=3),
                "type": st.sampled_from(
                    ["control.return", "state.set", "control.if", "x", "control.bogus"]
                ),
            },
            optional={
                "then": st.just([]),
                "condition": st.just({"$expr": "1"}),
                "config": json_values,
                "name": st.text(max_size=2),
            },
        ),
        max_size=4,
    )
)
def test_random_steps_never_crash(steps):
    definition_issues(_definition(*steps))
