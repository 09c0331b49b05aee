"""Dependency summaries (reference §2.2-2.6)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.bundle.canonical import loads_json
from algaflow.bundle.dependencies import (
    collect_dependency_summary,
    derive_dependencies,
    js_number_from_string,
    merge_dependency_summaries,
    workflow_dependency_summary,
)
from algaflow.kernel.jsvalues import js_trim, number_to_string


def call(action_id: Any, version: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "s",
        "type": "action.call",
        "config": {"actionId": action_id, "version": version},
        **extra,
    }


def actions_of(definition: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (a["actionId"], a["version"]) for a in collect_dependency_summary(definition)["actions"]
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("  ", 0.0),
        ("0x10", 16.0),
        ("0X1f", 31.0),
        ("0b11", 3.0),
        ("0o7", 7.0),
        ("1e1", 10.0),
        ("2.0", 2.0),
        ("+4", 4.0),
        (" \t\n1\u00a0\ufeff", 1.0),
        ("\u20281\u3000", 1.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("1_0", math.nan),
        ("-0x10", math.nan),
        ("0x", math.nan),
        ("0b2", math.nan),
        ("inf", math.nan),
        ("nan", math.nan),
        ("١", math.nan),  # Arabic-Indic digit: Python float() accepts it, JS does not
        ("\x1c1", math.nan),  # Python strip() removes \x1c, JS trim() does not
        ("1 2", math.nan),
    ],
)
def test_js_number_from_string(text: str, expected: float) -> None:
    got = js_number_from_string(text)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


_number_texts = st.one_of(
    st.from_regex(r"\A\s?[+-]?(0[xXbBoO])?[0-9a-fA-F._]{0,6}([eE][+-]?[0-9]{0,3})?\s?\Z"),
    st.text(st.sampled_from("0123456789+-.eExXoObB_ \t\u00a0\ufeff\u2028\x1cInfity"), max_size=8),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(_number_texts, min_size=1, max_size=40))
def test_js_number_matches_node(node_oracle: Any, texts: list[str]) -> None:
    got = []
    for t in texts:
        n = js_number_from_string(t)
        got.append("NaN" if math.isnan(n) else number_to_string(n))
    assert got == node_oracle.ask("number", texts)


def test_js_trim_uses_js_whitespace() -> None:
    assert js_trim("\ufeff\u2029 a \u3000") == "a"
    assert js_trim("\x1ca\x85") == "\x1ca\x85"


def test_action_versions_follow_number_semantics() -> None:
    steps = [
        call(" a.x ", "0x2"),
        call("a.x", 2),
        call("a.x", 2.0),
        call("a.x", " 1 "),
        call("a.x", "1.5"),
        call("b", 0),
        call("b", -1),
        call("b", ""),
        call("b", "abc"),
        call("b", True),
        call("b", None),
        call("b", "Infinity"),
        call("b", [1]),
        call("", 1),
        call("   ", 1),
        call(7, 1),
        {"id": "s", "type": "action.call", "config": "nope"},
        {"id": "s", "type": "action.call"},
    ]
    assert actions_of({"steps": steps}) == [("a.x", 1), ("a.x", 1.5), ("a.x", 2)]
    ints = collect_dependency_summary({"steps": steps})["actions"]
    assert type(ints[0]["version"]) is int


def test_node_types_walk_only_the_documented_branches() -> None:
    definition = {
        "steps": [
            {"id": "1", "type": "state.set"},
            {
                "id": "2",
                "type": "control.if",
                "then": [{"id": "3", "type": "transform.assign"}],
                "else": [call("x.y", 1)],
                "body": [{"id": "ignored", "type": "never.if.body"}],
            },
            {"id": "4", "type": "control.forEach", "body": [{"id": "5", "type": "event.wait"}]},
            {
                "id": "6",
                "type": "control.tryCatch",
                "try": [{"id": "7", "type": "time.wait"}],
                "catch": [{"id": "8", "type": "human.task"}],
            },
            {"id": "9", "type": "control.callWorkflow", "workflowId": "w", "workflowVersion": 1},
            {"id": "10", "type": "control.other", "then": [{"id": "11", "type": "never.seen"}]},
            {"id": "12", "type": ""},
            {"id": "13"},
            "not a step",
            {"id": "14", "type": "control.return"},
        ]
    }
    summary = collect_dependency_summary(definition)
    assert summary["nodeTypes"] == [
        "action.call", "event.wait", "human.task", "state.set", "time.wait", "transform.assign"
    ]  # fmt: skip
    assert summary["actions"] == [{"actionId": "x.y", "version": 1}]


def test_schema_refs_trimmed_and_source_ref_only_for_event_triggers() -> None:
    def refs(definition: Any) -> list[str]:
        return collect_dependency_summary(definition)["schemaRefs"]

    assert refs({"payloadSchemaRef": "  payload.A.v1 "}) == ["payload.A.v1"]
    assert refs({"payloadSchemaRef": "   "}) == []
    event = {"type": "event", "eventName": "E", "sourcePayloadSchemaRef": " payload.B.v1"}
    assert refs({"payloadSchemaRef": "payload.A.v1", "trigger": event}) == [
        "payload.A.v1",
        "payload.B.v1",
    ]
    for trigger_type in ("schedule", "recurring", None):
        trigger = {**event, "type": trigger_type}
        assert refs({"payloadSchemaRef": "payload.A.v1", "trigger": trigger}) == ["payload.A.v1"]
    assert refs({"trigger": {**event, "payloadMapping": {"x": "payload.C.v1"}}}) == ["payload.B.v1"]
    ai = call("ai.infer", 1)
    ai["config"]["aiOutputSchema"] = {"$ref": "payload.D.v1"}
    assert refs({"steps": [ai]}) == []
    assert collect_dependency_summary(["not", "a", "definition"]) == {
        "actions": [],
        "nodeTypes": [],
        "schemaRefs": [],
    }


def test_sorting_uses_locale_compare_and_versions_break_ties() -> None:
    steps = [
        call(a, v)
        for a, v in [("b", 1), ("a.b", 3), ("a_b", 1), ("a.b", 1), ("A.b", 2), ("a-b", 1)]
    ]
    steps += [{"id": t, "type": t} for t in ["x.B", "x.b", "x_b", "x-b"]]
    summary = collect_dependency_summary(
        {"steps": steps, "payloadSchemaRef": "payload.TicketCreated.v1"}
    )
    assert [(a["actionId"], a["version"]) for a in summary["actions"]] == [
        ("a_b", 1), ("a-b", 1), ("a.b", 1), ("a.b", 3), ("A.b", 2), ("b", 1)
    ]  # fmt: skip
    assert summary["nodeTypes"] == ["action.call", "x_b", "x-b", "x.b", "x.B"]


def test_merge_is_a_sorted_union() -> None:
    one = {
        "actions": [{"actionId": "b", "version": 1}],
        "nodeTypes": ["t.b"],
        "schemaRefs": ["s.b"],
    }
    two = {
        "actions": [{"actionId": "a", "version": 2}, {"actionId": "b", "version": 1}],
        "nodeTypes": ["t.a", "t.b"],
        "schemaRefs": [],
    }
    assert merge_dependency_summaries([one, two]) == {
        "actions": [{"actionId": "a", "version": 2}, {"actionId": "b", "version": 1}],
        "nodeTypes": ["t.a", "t.b"],
        "schemaRefs": ["s.b"],
    }
    assert merge_dependency_summaries([]) == {"actions": [], "nodeTypes": [], "schemaRefs": []}


def test_exporter_summary_adds_pinned_ref_untrimmed() -> None:
    draft = {"payloadSchemaRef": "payload.B.v1", "steps": [call("x", 1)]}
    v1 = {"payloadSchemaRef": "payload.A.v1", "steps": [call("x", 2)]}
    summary = workflow_dependency_summary(draft, [v1], " payload.Pinned.v1")
    assert summary["schemaRefs"] == [" payload.Pinned.v1", "payload.A.v1", "payload.B.v1"]
    assert [a["version"] for a in summary["actions"]] == [1, 2]
    assert workflow_dependency_summary(draft, [], "payload.B.v1")["schemaRefs"] == ["payload.B.v1"]
    assert workflow_dependency_summary(draft, [], "")["schemaRefs"] == ["payload.B.v1"]


def test_derive_dependencies_reads_a_bundle_entry() -> None:
    entry = {
        "metadata": {"pinnedPayloadSchemaRef": "payload.P.v1"},
        "draft": {"definition": {"steps": [call("d", 1)]}},
        "publishedVersions": [
            {"version": 2, "definition": {"steps": [call("v", 2)]}},
            {"version": 1, "definition": {"steps": [{"id": "n", "type": "state.set"}]}},
        ],
    }
    assert derive_dependencies(entry) == {
        "actions": [{"actionId": "d", "version": 1}, {"actionId": "v", "version": 2}],
        "nodeTypes": ["action.call", "state.set"],
        "schemaRefs": ["payload.P.v1"],
    }
    assert derive_dependencies({}) == {"actions": [], "nodeTypes": [], "schemaRefs": []}


def test_corpus_declared_dependencies_cover_the_derived_ones(corpus_bundles: Any) -> None:
    """Alga-written bundles declare at least what their definitions use."""
    checked = 0
    for _, bundle in corpus_bundles:
        for workflow in bundle["workflows"]:
            derived = derive_dependencies(workflow)
            declared = workflow["dependencies"]
            union = merge_dependency_summaries([declared, derived])
            assert union == merge_dependency_summaries([declared]), workflow["key"]
            checked += 1
    assert checked >= 40


def test_summary_is_json_stable() -> None:
    step = '{"id": "a", "type": "action.call", "config": {"actionId": "x", "version": 1.0}}'
    definition = loads_json('{"steps": [' + step + "]}")
    assert collect_dependency_summary(definition)["actions"] == [{"actionId": "x", "version": 1}]
