"""The checks an import runs on a schema-valid bundle before it touches the database.

Alga lets several of these through to the database (reference §5.6, §10): duplicate version
numbers, ``payloadSchemaMode: null``, a threshold NUMERIC(5,2) cannot hold, integers beyond int4,
``\\u0000`` in a string. There they become raw constraint errors, and some only on PostgreSQL.
Checking them here gives one coded error listing every problem, the same on both databases.

Each check returns the problems it found (empty when there are none) so the importer decides the
order; :func:`raise_if` turns them into the coded error. A check keeps the first problems, counts
the next ones and stops looking once it has counted enough (``limits``): a hostile bundle costs
no more than a few thousand problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algaflow.bundle.dependencies import derive_dependencies
from algaflow.bundle.errors import BundleError
from algaflow.bundle.limits import Problems, clip, listed, more_text
from algaflow.definitions.model import definition_issues
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsonb import unstorable_paths
from algaflow.kernel.jsvalues import json_pointer as pointer
from algaflow.kernel.jsvalues import number_to_string
from algaflow.kernel.storable import INT4_MAX, parse_failure_rate_threshold

if TYPE_CHECKING:
    from algaflow.registry import Registry

Problem = dict[str, Any]
_INT4_FIELDS = (
    ("metadata", "concurrencyLimit"),
    ("metadata", "failureRateMinRuns"),
    ("draft", "draftVersion"),
)


def raise_if(problems: Problems, code: str, message: str, key: str = "errors") -> None:
    """Raise ``code`` with ``details={key: [...first problems], keyOmitted: n}`` when there is
    any problem."""
    if problems:
        first = problems.items[0]
        where = first.get("instancePath") or first.get("workflowKey", "")
        raise BundleError(
            code,
            f"{message} {clip(where)}: {clip(first['message'])}{more_text(problems)}",
            details=listed(key, problems),
        )


# --- duplicate published versions ----------------------------------------------------------------


def duplicate_versions(workflows: list[dict[str, Any]]) -> Problems:
    """Version numbers used twice within one workflow (the unique constraint would refuse them)."""
    problems = Problems()
    for index, workflow in enumerate(workflows):
        if problems.full:
            break
        seen: set[int] = set()
        for v_index, version in enumerate(workflow["publishedVersions"]):
            number = version["version"]
            if number in seen:
                problems.add(
                    {
                        "workflowKey": workflow["key"],
                        "version": number,
                        "instancePath": pointer("workflows", index, "publishedVersions", v_index),
                        "message": f"published version {number} appears more than once",
                    }
                )
            seen.add(number)
    return problems


# --- draft versions ----------------------------------------------------------------------------


def highest_published(workflow: dict[str, Any]) -> int | None:
    """The workflow's highest published version number, or None without any."""
    return max((v["version"] for v in workflow["publishedVersions"]), default=None)


def draft_version_problems(workflows: list[dict[str, Any]]) -> Problems:
    """Draft versions that cannot work: below 1 (no request can address the draft) or below the
    highest published version (the draft would hide that version or come before it).

    A draft version *equal* to the highest published version is what Alga's own sample bundles
    carry; the importer raises it by one instead (``draft_version_after``), with a warning.
    """
    problems = Problems()
    for index, workflow in enumerate(workflows):
        if problems.full:
            break
        draft_version = workflow["draft"]["draftVersion"]
        highest = highest_published(workflow)
        if draft_version < 1:
            message = f"draftVersion {draft_version} must be at least 1"
        elif highest is not None and draft_version < highest:
            message = (
                f"draftVersion {draft_version} is below published version {highest}; "
                "the draft must come after every published version"
            )
        else:
            continue
        problems.add(
            {
                "workflowKey": workflow["key"],
                "instancePath": pointer("workflows", index, "draft", "draftVersion"),
                "draftVersion": draft_version,
                "highestPublishedVersion": highest,
                "message": message,
            }
        )
    return problems


def draft_version_after(workflow: dict[str, Any]) -> int:
    """The draft version an import stores: the bundle's, or one above the highest published
    version when the bundle's equals it (Alga's sample bundles: draft 1 beside published 1)."""
    draft_version = int(workflow["draft"]["draftVersion"])
    highest = highest_published(workflow)
    return highest + 1 if highest is not None and draft_version == highest else draft_version


# --- values the database cannot store ------------------------------------------------------------


def unstorable_values(workflows: list[dict[str, Any]]) -> Problems:
    """Every value of the workflows that one of the two databases would refuse or alter."""
    problems = Problems()

    def add(workflow: dict[str, Any], path: str, message: str) -> None:
        problems.add({"workflowKey": workflow["key"], "instancePath": path, "message": message})

    for index, workflow in enumerate(workflows):
        if problems.full:
            break
        base = pointer("workflows", index)
        for path, message in unstorable_paths(workflow):
            add(workflow, base + path, message)
        metadata = workflow["metadata"]
        if metadata["payloadSchemaMode"] is None:
            add(workflow, base + "/metadata/payloadSchemaMode", "must not be null")
        try:
            parse_failure_rate_threshold(metadata["failureRateThreshold"])
        except AlgaflowError:
            add(
                workflow,
                base + "/metadata/failureRateThreshold",
                "must be a number below 1000 in magnitude (NUMERIC(5,2))",
            )
        fields = [(pointer(*f), workflow[f[0]][f[1]]) for f in _INT4_FIELDS]
        fields += [
            (pointer("publishedVersions", i, "version"), v["version"])
            for i, v in enumerate(workflow["publishedVersions"])
        ]
        for path, value in fields:
            if value is not None and not -INT4_MAX - 1 <= value <= INT4_MAX:
                add(workflow, base + path, "must fit a 32-bit integer")
    return problems


# --- workflow definitions ------------------------------------------------------------------------


def definition_problems(workflows: list[dict[str, Any]]) -> Problems:
    """Every issue of every draft and published definition against the definition schema."""
    problems = Problems()
    for index, workflow in enumerate(workflows):
        if problems.full:
            break
        places = [(pointer("workflows", index, "draft", "definition"), None, workflow["draft"])]
        places += [
            (pointer("workflows", index, "publishedVersions", i, "definition"), v["version"], v)
            for i, v in enumerate(workflow["publishedVersions"])
        ]
        for instance_path, version, holder in places:
            for issue in definition_issues(holder["definition"]):
                problems.add(
                    {
                        "workflowKey": workflow["key"],
                        "version": version,
                        "instancePath": instance_path,
                        "path": issue["path"],
                        "message": issue["message"],
                    }
                )
    return problems


# --- dependencies --------------------------------------------------------------------------------


def missing_dependencies(
    workflows: list[dict[str, Any]], registry: Registry
) -> dict[str, Any] | None:
    """Alga's ``MISSING_DEPENDENCIES`` details, from the declared *and* the derived dependencies.

    Lists keep the bundle's order (declared first, then what only the definitions reveal); the
    aggregates are de-duplicated in first-seen order, like Alga's.
    """
    by_workflow = []
    actions: dict[str, dict[str, Any]] = {}
    node_types: dict[str, None] = {}
    schema_refs: dict[str, None] = {}
    for workflow in workflows:
        needed = _union(workflow["dependencies"], derive_dependencies(workflow))
        miss_actions = [
            a
            for a in needed["actions"]
            if registry.actions.get(a["actionId"], a["version"]) is None
        ]
        miss_nodes = [
            t
            for t in needed["nodeTypes"]
            if not t.startswith("control.") and registry.nodes.get(t) is None
        ]
        miss_refs = [r for r in needed["schemaRefs"] if not registry.schemas.has(r)]
        if miss_actions or miss_nodes or miss_refs:
            by_workflow.append(
                {
                    "workflowKey": workflow["key"],
                    "missingActions": miss_actions,
                    "missingNodeTypes": miss_nodes,
                    "missingSchemaRefs": miss_refs,
                }
            )
            for action in miss_actions:
                actions.setdefault(_action_key(action), action)
            node_types.update(dict.fromkeys(miss_nodes))
            schema_refs.update(dict.fromkeys(miss_refs))
    if not by_workflow:
        return None
    return {
        "missingByWorkflow": by_workflow,
        "missingActions": list(actions.values()),
        "missingNodeTypes": list(node_types),
        "missingSchemaRefs": list(schema_refs),
    }


def _action_key(action: dict[str, Any]) -> str:
    return f"{action['actionId']}@{number_to_string(action['version'])}"


def _union(declared: dict[str, Any], derived: dict[str, Any]) -> dict[str, list[Any]]:
    """Declared entries in their order, then derived ones not declared (deduplicated)."""
    actions = {_action_key(a): a for a in declared["actions"]}
    for action in derived["actions"]:
        actions.setdefault(_action_key(action), action)
    return {
        "actions": list(actions.values()),
        "nodeTypes": list(dict.fromkeys([*declared["nodeTypes"], *derived["nodeTypes"]])),
        "schemaRefs": list(dict.fromkeys([*declared["schemaRefs"], *derived["schemaRefs"]])),
    }
