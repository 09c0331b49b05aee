"""``control.callWorkflow`` references across an import: rewrite them, then say which cannot run.

A bundle carries each workflow's source id in ``definition.id``. A parent that calls a child of the
same bundle names the child by that source id, which means nothing in the target database, so the
importer rewrites such references to the child's new ``workflow_id`` (DESIGN decision 4). Alga does
not, and broken sub-workflow references import silently there.

What remains unresolved is reported. In a published version it is an error, because a published
version is runnable and would fail at run time with "Child workflow definition not found"; in a
draft it is a warning, because a draft is work in progress (Alga's own fixtures ship drafts that
call the placeholder id ``00000000-0000-0000-0000-000000000000`` and bind it later).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from algaflow.definitions.paths import BRANCHES, iter_steps, walk_steps

CALL_WORKFLOW = "control.callWorkflow"


def call_steps(definition: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(step path, step)`` of every ``control.callWorkflow`` step of a definition."""
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not any(step.get("type") == CALL_WORKFLOW for step in iter_steps(steps)):
        return  # most definitions call nothing: skip building every step's path
    for path, step in walk_steps(steps):
        if step.get("type") == CALL_WORKFLOW:
            yield path, step


def rewrite_calls(definition: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """``definition`` with each ``workflowId`` found in ``mapping`` replaced.

    Nothing is mutated: changed steps and the lists holding them are copied, everything else is
    shared with the input (the bundle belongs to the caller).
    """
    steps = definition.get("steps")
    rewritten = _rewrite_steps(steps, mapping)
    return definition if rewritten is steps else {**definition, "steps": rewritten}


def _rewrite_steps(steps: Any, mapping: Mapping[str, str]) -> Any:
    if not isinstance(steps, list):
        return steps
    out: list[Any] | None = None
    for index, step in enumerate(steps):
        new = _rewrite_step(step, mapping)
        if new is not step:
            out = list(steps) if out is None else out
            out[index] = new
    return steps if out is None else out


def _rewrite_step(step: Any, mapping: Mapping[str, str]) -> Any:
    if not isinstance(step, dict):
        return step
    kind = step.get("type")
    changes: dict[str, Any] = {}
    target = step.get("workflowId")
    if kind == CALL_WORKFLOW and isinstance(target, str) and mapping.get(target, target) != target:
        changes["workflowId"] = mapping[target]
    for branch in BRANCHES.get(kind, ()) if isinstance(kind, str) else ():
        nested = _rewrite_steps(step.get(branch), mapping)
        if nested is not step.get(branch):
            changes[branch] = nested
    return {**step, **changes} if changes else step


def referenced_ids(definitions: list[Any]) -> set[str]:
    """Every ``workflowId`` the definitions call."""
    return {
        step["workflowId"]
        for definition in definitions
        for _, step in call_steps(definition)
        if isinstance(step.get("workflowId"), str)
    }


def reference_problem(
    step: dict[str, Any], known: Mapping[str, set[int]], ambiguous: set[str]
) -> str | None:
    """Why the call cannot run after the import (``None`` when it can).

    ``known`` maps every workflow id the tenant will have to its published version numbers;
    ``ambiguous`` holds source ids that several workflows of the bundle carry.
    """
    workflow_id, version = step.get("workflowId"), step.get("workflowVersion")
    if workflow_id in ambiguous:
        return f"workflow id {workflow_id} is carried by several workflows of the bundle"
    if not isinstance(workflow_id, str) or workflow_id not in known:
        return f"no workflow {workflow_id} in the bundle or the tenant"
    if version not in known[workflow_id]:
        return f"workflow {workflow_id} has no published version {version}"
    return None
