"""Finding and binding environment-specific references: pure, no database."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.bundle.bundle_factory import bundle, call_step, definition, make_registry, workflow

from algaflow.bundle.bindings import bind_bundle, parse_bindings_text, template
from algaflow.bundle.errors import BundleError
from algaflow.bundle.instance_refs import find_references
from algaflow.registry import ActionDef, ReferenceKind, Registry

NOTIFY_SCHEMA = {
    "type": "object",
    "properties": {
        "userId": {"type": "string", "x-algaflow-reference": "user"},
        "cc": {"type": "array", "items": {"type": "string"}, "x-algaflow-reference": "user"},
        "route": {
            "type": "object",
            "properties": {"board": {"type": "string", "x-algaflow-reference": "board"}},
        },
        "text": {"type": "string"},
    },
}


def registry() -> Registry:
    reg = make_registry()
    reg.actions.register(ActionDef("notify", 1, NOTIFY_SCHEMA, {"type": "object"}, lambda a, c: {}))
    reg.references.register(ReferenceKind("user"))
    reg.references.register(ReferenceKind("board", injective=True))
    return reg


def notify(step_id: str, mapping: dict[str, Any]) -> dict[str, Any]:
    config = {"actionId": "notify", "version": 1, "inputMapping": mapping}
    return {"id": step_id, "type": "action.call", "config": config}


def resolve(value: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def sample() -> dict[str, Any]:
    steps = [
        notify("a", {"userId": "u-1", "text": {"$secret": "API_TOKEN"}, "cc": ["u-2", "u-3"]}),
        {
            "id": "branch",
            "type": "control.if",
            "condition": {"$expr": "true"},
            "then": [notify("b", {"userId": {"$expr": "payload.who"}, "route": {"board": "b-7"}})],
            "else": [call_step("elsewhere", "11111111-1111-4111-8111-111111111111")],
        },
    ]
    return bundle(workflow("refs.one", definition(steps=steps, version=2)))


def test_finds_marked_literals_secrets_and_outside_calls_in_document_order():
    found = [r.as_json() for r in find_references(sample(), registry())]
    draft = "/workflows/0/draft/definition/steps"
    outside = "11111111-1111-4111-8111-111111111111"
    assert [(r["version"], r["kind"], r["value"], r["path"]) for r in found[:6]] == [
        ("draft", "user", "u-1", f"{draft}/0/config/inputMapping/userId"),
        ("draft", "user", "u-2", f"{draft}/0/config/inputMapping/cc/0"),
        ("draft", "user", "u-3", f"{draft}/0/config/inputMapping/cc/1"),
        ("draft", "secret", "API_TOKEN", f"{draft}/0/config/inputMapping/text/$secret"),
        ("draft", "board", "b-7", f"{draft}/1/then/0/config/inputMapping/route/board"),
        ("draft", "workflow", outside, f"{draft}/1/else/0/workflowId"),
    ]  # fmt: skip
    assert found[4]["stepPath"] == "root.steps[1].then.steps[0]"
    # the published version 1 holds the same six, an $expr is no literal
    assert [r["version"] for r in found] == ["draft"] * 6 + [1] * 6
    assert "payload.who" not in json.dumps(found)


def test_calls_inside_the_bundle_are_not_references():
    child = workflow("refs.child", definition(workflow_id="22222222-2222-4222-8222-222222222222"))
    parent = workflow(
        "refs.parent", definition(steps=[call_step("c", "22222222-2222-4222-8222-222222222222")])
    )
    assert find_references(bundle(parent, child), registry()) == []


def test_malformed_bundles_are_left_to_the_format_check():
    for value in (None, [], {"workflows": [1, {"draft": []}, {"publishedVersions": [None]}]}):
        assert find_references(value, registry()) == []


def test_binding_replaces_every_occurrence_and_leaves_the_input_alone():
    original = sample()
    kept = copy.deepcopy(original)
    bound = bind_bundle(
        original, {"user": {"u-1": "u-100"}, "secret": {"API_TOKEN": "PROD_TOKEN"}}, registry()
    )
    assert original == kept
    assert len(bound.substitutions) == 4  # two kinds, draft and version 1
    for sub in bound.substitutions:
        assert resolve(bound.bundle, sub.reference.path) == sub.target
        assert resolve(original, sub.reference.path) == sub.reference.value
    values = {(r.kind, r.value) for r in bound.references}
    assert ("user", "u-100") in values and ("user", "u-1") not in values
    assert ("secret", "PROD_TOKEN") in values
    assert bound.warnings == []


def test_unused_bindings_warn_unknown_kinds_and_shared_injective_targets_fail():
    bound = bind_bundle(sample(), {"user": {"nobody": "u-9"}}, registry())
    assert [(w["code"], w["value"]) for w in bound.warnings] == [("BINDING_UNUSED", "nobody")]
    with pytest.raises(BundleError) as caught:
        bind_bundle(sample(), {"mailbox": {"a": "b"}}, registry())
    assert caught.value.code == "UNKNOWN_REFERENCE_KIND"
    assert caught.value.details["kinds"] == ["mailbox"]
    two_boards = sample()
    two_boards["workflows"][0]["draft"]["definition"]["steps"][0]["config"]["inputMapping"][
        "route"
    ] = {"board": "b-8"}
    with pytest.raises(BundleError) as caught:
        bind_bundle(two_boards, {"board": {"b-8": "b-7"}}, registry())
    assert caught.value.code == "BINDINGS_NOT_INJECTIVE"
    assert caught.value.details["shared"] == [{"target": "b-7", "values": ["b-7", "b-8"]}]
    # users are not injective: two users may become one
    assert bind_bundle(sample(), {"user": {"u-1": "u-2"}}, registry()).substitutions


@pytest.mark.parametrize(
    ("raw", "toml"),
    [
        (b"{not json", False),
        (b"[user\n", True),
        (b"[]", False),
        (b'{"user": ["u-1"]}', False),
        (b'{"user": {"u-1": 3}}', False),
        (b'{"user": {"u-1": ""}}', False),
        (b'{"secret": {"A": "not a name"}}', False),
        (b"\xff", False),
    ],
)
def test_bad_bindings_files_are_refused_with_a_code(raw, toml):
    with pytest.raises(BundleError) as caught:
        parse_bindings_text(raw, toml=toml)
    assert caught.value.code == "INVALID_BINDINGS"


def test_toml_and_json_bindings_read_the_same():
    toml = parse_bindings_text(b'[user]\n"u-1" = "u-100"\n[secret]\nA = "B"\n', toml=True)
    assert toml == parse_bindings_text(b'{"user": {"u-1": "u-100"}, "secret": {"A": "B"}}')


def test_template_binds_every_value_to_itself_sorted():
    found = find_references(sample(), registry())
    assert template(found) == {
        "board": {"b-7": "b-7"},
        "secret": {"API_TOKEN": "API_TOKEN"},
        "user": {"u-1": "u-1", "u-2": "u-2", "u-3": "u-3"},
        "workflow": {
            "11111111-1111-4111-8111-111111111111": "11111111-1111-4111-8111-111111111111"
        },
    }
    # the template applied is the identity
    assert bind_bundle(sample(), template(found), registry()).bundle == sample()


_text = st.text(min_size=1, max_size=12)
_names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    users=st.lists(_text, min_size=1, max_size=6),
    secrets=st.lists(_names, min_size=0, max_size=3),
    targets=st.dictionaries(_text, _text, max_size=6),
    nest=st.integers(0, 3),
)
def test_found_paths_point_at_their_values_and_binding_moves_exactly_those(
    users, secrets, targets, nest
):
    steps: list[dict[str, Any]] = [
        notify(f"s{i}", {"userId": user, "text": {"$secret": secrets[i % len(secrets)]}}
               if secrets else {"userId": user})
        for i, user in enumerate(users)
    ]  # fmt: skip
    for depth in range(nest):
        steps = [{"id": f"t{depth}", "type": "control.tryCatch", "try": steps, "catch": []}]
    value = bundle(workflow("refs.h", definition(steps=steps, version=2)))
    reg = registry()
    found = find_references(value, reg)
    assert [r.value for r in found if r.kind == "user"] == users * 2
    assert [r.value for r in found if r.kind == "secret"] == (
        [secrets[i % len(secrets)] for i in range(len(users))] * 2 if secrets else []
    )
    for ref in found:
        assert resolve(value, ref.path) == ref.value
    bindings = {"user": {u: t for u, t in targets.items()}} if targets else {}
    bound = bind_bundle(value, bindings, reg)
    after = find_references(bound.bundle, reg)
    assert [r.parts for r in after] == [r.parts for r in found]
    assert [r.value for r in after] == [
        targets.get(r.value, r.value) if r.kind == "user" else r.value for r in found
    ]
    assert bound.references == (after if bindings else None)
