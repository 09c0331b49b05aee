"""Header, schema and duplicate-key checks (reference §3, §5.3-5.4, §10)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.api.statuses import status_for
from algaflow.bundle import format as fmt
from algaflow.bundle.canonical import loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import (
    BUNDLE_FORMAT,
    find_duplicate_keys,
    is_date_time,
    is_valid_workflow_key,
    schema_errors,
    validate_bundle,
    validate_bundle_header,
    validate_bundle_schema,
)

ROOT = Path(__file__).resolve().parents[2]
BROKEN_CORPUS_FILE = "workflow-data-store-task-mirror.v1.json"


def workflow(key: str = "test.a") -> dict[str, Any]:
    return {
        "key": key,
        "metadata": {
            "name": "A",
            "description": None,
            "payloadSchemaRef": "payload.Empty.v1",
            "payloadSchemaMode": "pinned",
            "pinnedPayloadSchemaRef": None,
            "trigger": None,
            "isSystem": False,
            "isVisible": True,
            "isPaused": False,
            "concurrencyLimit": None,
            "autoPauseOnFailure": False,
            "failureRateThreshold": "0.50",
            "failureRateMinRuns": 10,
            "retentionPolicyOverride": None,
        },
        "dependencies": {"actions": [], "nodeTypes": ["state.set"], "schemaRefs": []},
        "draft": {"draftVersion": 1, "definition": {"id": "x", "steps": []}},
        "publishedVersions": [{"version": 1, "definition": {}, "payloadSchemaJson": None}],
    }


def bundle(*workflows: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": 1,
        "exportedAt": "2026-01-25T12:00:00.000Z",
        "workflows": list(workflows) or [workflow()],
    }


def error_of(check: Any, value: Any) -> BundleError:
    with pytest.raises(BundleError) as caught:
        check(value)
    return caught.value


# --- the schema file ----------------------------------------------------------------------------


def test_docs_copy_of_schema_is_byte_identical() -> None:
    packaged = ROOT / "src/algaflow/bundle/schemas/workflow-bundle.v1.schema.json"
    assert (
        ROOT / "docs/schemas/workflow-bundle.v1.schema.json"
    ).read_bytes() == packaged.read_bytes()
    assert fmt.load_schema_text().encode() == packaged.read_bytes()


def test_validator_is_compiled_once() -> None:
    assert fmt._validator() is fmt._validator()


# --- header ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, [], [1], "x", 0, True, 1.5])
def test_header_requires_an_object(value: Any) -> None:
    error = error_of(validate_bundle_header, value)
    assert (error.code, error.message, error.details, status_for(error.code)) == (
        "INVALID_BUNDLE",
        "Workflow bundle must be a JSON object.",
        None,
        400,
    )


@pytest.mark.parametrize(
    ("fields", "shown", "details"),
    [
        ({}, None, {"expectedFormat": BUNDLE_FORMAT}),
        ({"format": None}, "null", {"expectedFormat": BUNDLE_FORMAT, "receivedFormat": None}),
        (
            {"format": "other"},
            '"other"',
            {"expectedFormat": BUNDLE_FORMAT, "receivedFormat": "other"},
        ),
        (
            {"format": {"a": 1}},
            '{"a": 1}',
            {"expectedFormat": BUNDLE_FORMAT, "receivedFormat": {"a": 1}},
        ),
    ],
)
def test_header_format(fields: dict[str, Any], shown: str | None, details: dict[str, Any]) -> None:
    """The value is quoted as received (JSON), or said to be missing."""
    error = error_of(validate_bundle_header, {**fields, "formatVersion": "not checked yet"})
    assert error.code == "UNSUPPORTED_FORMAT"
    expected = f'(expected "{BUNDLE_FORMAT}").'
    assert error.message == (
        f"Workflow bundle has no format {expected}"
        if shown is None
        else f"Unsupported workflow bundle format {shown} {expected}"
    )
    assert error.details == details


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({}, None),
        ({"formatVersion": True}, "true"),
        ({"formatVersion": "1"}, '"1"'),
        ({"formatVersion": 2}, "2"),
        ({"formatVersion": 999}, "999"),
        ({"formatVersion": 1.5}, "1.5"),
        ({"formatVersion": [1, 2]}, "[1, 2]"),
        ({"formatVersion": None}, "null"),
        ({"formatVersion": "x" * 200}, '"' + "x" * 76 + "..."),
    ],
)
def test_header_format_version(fields: dict[str, Any], shown: str | None) -> None:
    """``"1"`` (a string) is quoted as one; a missing version is said to be missing."""
    error = error_of(validate_bundle_header, {"format": BUNDLE_FORMAT, **fields})
    assert error.code == "UNSUPPORTED_FORMAT_VERSION"
    assert error.message == (
        "Workflow bundle has no formatVersion (expected 1)."
        if shown is None
        else f"Unsupported workflow bundle formatVersion {shown} (expected 1)."
    )
    expected = {"expectedFormatVersion": 1}
    if fields:
        expected["receivedFormatVersion"] = fields["formatVersion"]
    assert error.details == expected


def test_header_accepts_one_and_one_point_zero() -> None:
    validate_bundle_header({"format": BUNDLE_FORMAT, "formatVersion": 1})
    validate_bundle_header({"format": BUNDLE_FORMAT, "formatVersion": 1.0})
    validate_bundle_header(
        loads_json('{"format": "alga-psa.workflow-bundle", "formatVersion": 1.0}')
    )


# --- corpus ------------------------------------------------------------------------------------


def test_corpus_bundles_validate(corpus_bundles: list[tuple[Path, Any]]) -> None:
    assert len(corpus_bundles) > 40
    for path, value in corpus_bundles:
        if path.name == BROKEN_CORPUS_FILE:
            continue
        validate_bundle(value)


def test_corpus_bundle_without_payload_schema_json_lists_every_pointer(corpus_dir: Path) -> None:
    value = loads_json((corpus_dir / BROKEN_CORPUS_FILE).read_bytes())
    validate_bundle_header(value)
    error = error_of(validate_bundle_schema, value)
    assert error.code == "SCHEMA_VALIDATION_FAILED"
    expected = [
        (f"/workflows/{w}/publishedVersions/{v}", {"missingProperty": "payloadSchemaJson"})
        for w, entry in enumerate(value["workflows"])
        for v in range(len(entry["publishedVersions"]))
    ]
    assert len(expected) >= 2
    assert [(e["instancePath"], e["params"]) for e in error.details["errors"]] == expected
    assert error.message == (
        "Workflow bundle failed schema validation (/workflows/0/publishedVersions/0: "
        "must have required property 'payloadSchemaJson')."
    )


# --- schema: invalid variants -----------------------------------------------------------------


def mutate(change: Any) -> dict[str, Any]:
    value = bundle()
    change(value)
    return value


INVALID = {
    "no workflows": (lambda b: b.update(workflows=[]), [("/workflows", "minItems", {"limit": 1})]),
    "workflows not array": (
        lambda b: b.update(workflows={}),
        [("/workflows", "type", {"type": "array"})],
    ),
    "key trailing newline": (
        lambda b: b["workflows"][0].update(key="test.a\n"),
        [("/workflows/0/key", "pattern", {"pattern": "^[a-z0-9][a-z0-9._-]*$(?!\\n)"})],
    ),
    "key uppercase": (
        lambda b: b["workflows"][0].update(key="Test.a"),
        [("/workflows/0/key", "pattern", {"pattern": "^[a-z0-9][a-z0-9._-]*$(?!\\n)"})],
    ),
    "key empty": (
        lambda b: b["workflows"][0].update(key=""),
        [
            ("/workflows/0/key", "minLength", {"limit": 1}),
            ("/workflows/0/key", "pattern", {"pattern": "^[a-z0-9][a-z0-9._-]*$(?!\\n)"}),
        ],
    ),
    "metadata field missing": (
        lambda b: b["workflows"][0]["metadata"].pop("isPaused"),
        [("/workflows/0/metadata", "required", {"missingProperty": "isPaused"})],
    ),
    "extra properties everywhere": (
        lambda b: (
            b.update(extra=1),
            b["workflows"][0].update(workflowId="x", status="y"),
            b["workflows"][0]["draft"].update(more=True),
        ),
        [
            ("", "additionalProperties", {"additionalProperty": "extra"}),
            ("/workflows/0", "additionalProperties", {"additionalProperty": "workflowId"}),
            ("/workflows/0", "additionalProperties", {"additionalProperty": "status"}),
            ("/workflows/0/draft", "additionalProperties", {"additionalProperty": "more"}),
        ],
    ),
    "bad exportedAt": (
        lambda b: b.update(exportedAt="2026-02-30T00:00:00Z"),
        [("/exportedAt", "format", {"format": "date-time"})],
    ),
    "wrong types": (
        lambda b: b["workflows"][0]["metadata"].update(
            isVisible="yes", concurrencyLimit=1.5, failureRateThreshold=[], trigger="event"
        ),
        [
            ("/workflows/0/metadata/trigger", "type", {"type": ["object", "null"]}),
            ("/workflows/0/metadata/isVisible", "type", {"type": "boolean"}),
            ("/workflows/0/metadata/concurrencyLimit", "type", {"type": ["integer", "null"]}),
            (
                "/workflows/0/metadata/failureRateThreshold",
                "type",
                {"type": ["number", "string", "null"]},
            ),
        ],
    ),
    "dependency rules": (
        lambda b: b["workflows"][0].update(
            dependencies={
                "actions": [
                    {"actionId": "", "version": 0},
                    {"actionId": "a", "version": 1.0},
                    {"actionId": "a", "version": 1},
                ],
                "nodeTypes": ["x", "y", "x"],
            }
        ),
        [
            ("/workflows/0/dependencies", "required", {"missingProperty": "schemaRefs"}),
            ("/workflows/0/dependencies/actions", "uniqueItems", {"i": 2, "j": 1}),
            ("/workflows/0/dependencies/actions/0/actionId", "minLength", {"limit": 1}),
            (
                "/workflows/0/dependencies/actions/0/version",
                "minimum",
                {"comparison": ">=", "limit": 1},
            ),
            ("/workflows/0/dependencies/nodeTypes", "uniqueItems", {"i": 2, "j": 0}),
        ],
    ),
    "published version shape": (
        lambda b: b["workflows"][0].update(
            publishedVersions=[{"version": "1", "definition": [], "payloadSchemaJson": 3}, {}]
        ),
        [
            ("/workflows/0/publishedVersions/0/version", "type", {"type": "integer"}),
            ("/workflows/0/publishedVersions/0/definition", "type", {"type": "object"}),
            (
                "/workflows/0/publishedVersions/0/payloadSchemaJson",
                "type",
                {"type": ["object", "null"]},
            ),
            ("/workflows/0/publishedVersions/1", "required", {"missingProperty": "version"}),
            ("/workflows/0/publishedVersions/1", "required", {"missingProperty": "definition"}),
            (
                "/workflows/0/publishedVersions/1",
                "required",
                {"missingProperty": "payloadSchemaJson"},
            ),
        ],
    ),
    "format const after header": (
        lambda b: b.update(formatVersion=2, format="x"),
        [
            ("/format", "const", {"allowedValue": BUNDLE_FORMAT}),
            ("/formatVersion", "const", {"allowedValue": 1}),
        ],
    ),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_variants_list_every_error(name: str) -> None:
    change, expected = INVALID[name]
    error = error_of(validate_bundle_schema, mutate(change))
    assert error.code == "SCHEMA_VALIDATION_FAILED" and status_for(error.code) == 400
    got = [(e["instancePath"], e["keyword"], e["params"]) for e in error.details["errors"]]
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for e in error.details["errors"]:
        assert set(e) == {"instancePath", "schemaPath", "keyword", "params", "message"}
        assert e["schemaPath"].startswith("#/") and e["schemaPath"].endswith("/" + e["keyword"])
        assert e["message"]
    first = error.details["errors"][0]
    where = first["instancePath"] or first["schemaPath"]
    assert (
        error.message == f"Workflow bundle failed schema validation ({where}: {first['message']})."
    )


def test_schema_paths_follow_refs_like_ajv() -> None:
    errors = schema_errors(mutate(lambda b: b["workflows"][0]["metadata"].pop("name")))
    assert errors == [
        {
            "instancePath": "/workflows/0/metadata",
            "schemaPath": "#/definitions/metadata/required",
            "keyword": "required",
            "params": {"missingProperty": "name"},
            "message": "must have required property 'name'",
        }
    ]
    top = schema_errors({**bundle(), "x/y~": 1})
    assert top[0]["schemaPath"] == "#/additionalProperties"
    nested = schema_errors(mutate(lambda b: b["workflows"][0]["metadata"].update({"a/b~c": 1})))
    assert nested[0]["instancePath"] == "/workflows/0/metadata"
    assert nested[0]["params"] == {"additionalProperty": "a/b~c"}


def test_what_the_schema_allows() -> None:
    """Things Alga's schema lets through stay allowed (the importer deals with some of them)."""
    loose = workflow()
    loose["metadata"].update(
        payloadSchemaMode="anything", failureRateThreshold="abc", concurrencyLimit=-5
    )
    loose["draft"]["draftVersion"] = -1
    loose["publishedVersions"] = [
        {"version": 0, "definition": {}, "payloadSchemaJson": {}},
        {"version": 0, "definition": {}, "payloadSchemaJson": None},
    ]
    loose["dependencies"]["actions"] = [{"actionId": "a", "version": 2.0}]
    validate_bundle_schema(bundle(loose, workflow("test.b")))
    assert schema_errors(bundle(loose)) == []


# --- duplicate keys ----------------------------------------------------------------------------


def test_duplicate_keys() -> None:
    value = bundle(
        workflow("a"), workflow("b"), workflow("a"), workflow("c"), workflow("b"), workflow("a")
    )
    assert find_duplicate_keys(value) == ["a", "b"]
    validate_bundle_schema(value)  # the schema does not see them, like Alga's
    error = error_of(validate_bundle, value)
    assert (error.code, status_for(error.code), error.details) == (
        "DUPLICATE_WORKFLOW_KEY",
        400,
        {"duplicateKeys": ["a", "b"]},
    )
    assert find_duplicate_keys({"workflows": [None, {"key": 1}, {}]}) == []
    assert find_duplicate_keys([]) == []


def test_validate_bundle_runs_header_before_schema() -> None:
    assert error_of(validate_bundle, {"workflows": []}).code == "UNSUPPORTED_FORMAT"
    assert (
        error_of(validate_bundle, {**bundle(), "formatVersion": True}).code
        == "UNSUPPORTED_FORMAT_VERSION"
    )
    assert (
        error_of(validate_bundle, {**bundle(), "workflows": []}).code == "SCHEMA_VALIDATION_FAILED"
    )
    validate_bundle(copy.deepcopy(bundle()))


# --- key pattern and date-time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a", True),
        ("0", True),
        ("fixture.ticket-created_hello.v1", True),
        ("a.b\n", False),
        ("a.b\n\n", False),
        ("\na.b", False),
        (" a.b ", False),
        (".a", False),
        ("-a", False),
        ("A", False),
        ("a/b", False),
        ("", False),
        ("é", False),
    ],
)
def test_workflow_key_pattern(key: str, ok: bool) -> None:
    assert is_valid_workflow_key(key) is ok
    errors = schema_errors(bundle(workflow(key)))
    assert (not errors) is ok


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(st.sampled_from("az09._-A\n\r /é"), max_size=6), min_size=1, max_size=40))
def test_schema_key_pattern_agrees_with_javascript(node_oracle: Any, keys: list[str]) -> None:
    alga = "^[a-z0-9][a-z0-9._-]*$"
    ours = fmt.bundle_schema()["definitions"]["workflow"]["properties"]["key"]["pattern"]
    expected = node_oracle.ask("regex", alga, keys)
    assert node_oracle.ask("regex", ours, keys) == expected
    assert [is_valid_workflow_key(k) for k in keys] == expected
    assert [not schema_errors(bundle(workflow(k))) for k in keys] == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-01-25T12:00:00.000Z", True),
        ("2026-01-25T12:00:00Z", True),
        ("2026-01-25t12:00:00z", True),
        ("2026-01-25 12:00:00+01:00", True),
        ("2026-01-25T12:00:00.123456-0530", True),
        ("2026-01-25T12:00:00+01", True),
        ("2024-02-29T00:00:00Z", True),
        ("2026-12-31T23:59:60Z", True),
        ("2026-01-25T00:00:00", False),  # ajv-formats 2.1.1 accepts this; we require a timezone
        ("2026-02-30T00:00:00Z", False),
        ("2023-02-29T00:00:00Z", False),
        ("2026-01-25T24:00:00Z", False),
        ("2026-01-25T12:60:00Z", False),
        ("2026-01-25T12:00:60Z", False),
        ("2026-01-25", False),
        ("2026-01-25TT12:00:00Z", False),
        ("2026-01-25T12:00:00.Z", False),
        ("2026-01-25T12:00:00Z\n", False),
        ("２026-01-25T12:00:00Z", False),
        ("", False),
    ],
)
def test_exported_at_date_time(value: str, ok: bool) -> None:
    assert is_date_time(value) is ok
    assert (not schema_errors({**bundle(), "exportedAt": value})) is ok


def test_error_statuses() -> None:
    assert status_for("WORKFLOW_KEY_CONFLICT") == 409
    assert status_for("WORKFLOW_NOT_FOUND") == 404
    assert status_for(BundleError("MISSING_DEPENDENCIES", "m").code) == 400
    assert BundleError("WORKFLOW_KEY_CONFLICT", "m").to_dict() == {
        "code": "WORKFLOW_KEY_CONFLICT",
        "error": "m",
    }
    with pytest.raises(ValueError):
        BundleError("NOT_A_CODE", "m")
