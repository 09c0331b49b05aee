"""Dependency summaries: which actions, node types and payload schemas a workflow needs.

Reproduces Alga's ``collectWorkflowDefinitionDependencySummaryV1`` / ``mergeDependencySummariesV1``
(reference §2.2-2.6) so exported ``dependencies`` are byte-identical: JS ``trim()`` and ``Number()``
semantics, insertion-ordered dedup, ``localeCompare`` sorting, only ``then``/``else``/``body``/
``try``/``catch`` walked, ``control.*`` never recorded, ``trigger.sourcePayloadSchemaRef`` only for
event triggers.

Alga's importer trusts the declared summary; algaflow's importer also derives one from the
definitions (:func:`derive_dependencies`) and checks the union, so under-declaring is caught.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from algaflow.bundle.collation import locale_compare_key, sort_locale
from algaflow.definitions.paths import iter_steps
from algaflow.kernel.jsvalues import js_string, js_trim, number_to_string

DependencySummary = dict[str, list[Any]]

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_RADIX = {"x": (16, "0123456789abcdefABCDEF"), "o": (8, "01234567"), "b": (2, "01")}


def js_number_from_string(text: str) -> float:
    """``Number(text)``: ``""`` -> 0, ``"0x10"`` -> 16, ``"1_0"`` -> NaN, ``"Infinity"`` -> inf."""
    s = js_trim(text)
    if not s:
        return 0.0
    if len(s) > 2 and s[0] == "0" and s[1].lower() in _RADIX:
        base, digits = _RADIX[s[1].lower()]
        body = s[2:]
        return float(int(body, base)) if all(c in digits for c in body) else math.nan
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    return float(s) if _DECIMAL.fullmatch(s) else math.nan


def _js_number(value: float) -> int | float:
    """Keep integral versions as ints so they print and validate as JSON integers."""
    return int(value) if value.is_integer() else value


def _action_version(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        number = js_number_from_string(raw)
    else:
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return _js_number(number)


def _version_text(version: Any) -> str:
    if isinstance(version, int | float) and not isinstance(version, bool):
        return number_to_string(version)
    return js_string(version)


class _Accumulator:
    """Insertion-ordered sets, as Alga's Map/Set accumulators."""

    def __init__(self) -> None:
        self.actions: dict[str, dict[str, Any]] = {}
        self.node_types: dict[str, None] = {}
        self.schema_refs: dict[str, None] = {}

    def add_action(self, action_id: str, version: Any) -> None:
        self.actions[f"{action_id}@{_version_text(version)}"] = {
            "actionId": action_id,
            "version": version,
        }

    def add_ref(self, ref: Any) -> None:
        if isinstance(ref, str) and js_trim(ref):
            self.schema_refs[js_trim(ref)] = None

    def walk(self, steps: Any) -> None:
        # walk_steps follows Alga's rules: objects only, nested lists only in then/else/body/
        # try/catch of the matching control block.
        for step in iter_steps(steps):
            step_type = step.get("type")
            if not isinstance(step_type, str) or not step_type:
                continue
            if not step_type.startswith("control."):
                self.node_types[step_type] = None
            config = step.get("config")
            if step_type == "action.call" and isinstance(config, dict):
                action_id = config.get("actionId")
                version = _action_version(config.get("version"))
                if isinstance(action_id, str) and js_trim(action_id) and version is not None:
                    self.add_action(js_trim(action_id), version)

    def summary(self) -> DependencySummary:
        actions = sorted(
            self.actions.values(),
            key=lambda a: (locale_compare_key(a["actionId"]), a["version"]),
        )
        return {
            "actions": actions,
            "nodeTypes": sort_locale(self.node_types),
            "schemaRefs": sort_locale(self.schema_refs),
        }


def _collect_into(acc: _Accumulator, definition: Any) -> None:
    if not isinstance(definition, dict):
        return
    acc.add_ref(definition.get("payloadSchemaRef"))
    trigger = definition.get("trigger")
    if isinstance(trigger, dict) and trigger.get("type") == "event":
        acc.add_ref(trigger.get("sourcePayloadSchemaRef"))
    acc.walk(definition.get("steps"))


def collect_dependency_summary(definition: Any) -> DependencySummary:
    """The summary of one workflow definition (``collectWorkflowDefinitionDependencySummaryV1``)."""
    acc = _Accumulator()
    _collect_into(acc, definition)
    return acc.summary()


def merge_dependency_summaries(summaries: Iterable[Mapping[str, Any]]) -> DependencySummary:
    """Union in list order, then sorted (``mergeDependencySummariesV1``)."""
    acc = _Accumulator()
    for summary in summaries:
        for action in summary.get("actions") or ():
            acc.add_action(action["actionId"], action["version"])
        for node_type in summary.get("nodeTypes") or ():
            acc.node_types[node_type] = None
        for ref in summary.get("schemaRefs") or ():
            acc.schema_refs[ref] = None
    return acc.summary()


def workflow_dependency_summary(
    draft_definition: Any,
    published_definitions: Iterable[Any] = (),
    pinned_payload_schema_ref: str | None = None,
) -> DependencySummary:
    """What Alga's exporter writes (§2.6): draft + every published definition (pass them in
    ascending version order), plus the pinned payload schema ref, untrimmed, when truthy."""
    summary = merge_dependency_summaries(
        collect_dependency_summary(d) for d in [draft_definition, *published_definitions]
    )
    if pinned_payload_schema_ref and pinned_payload_schema_ref not in summary["schemaRefs"]:
        summary["schemaRefs"] = sort_locale([*summary["schemaRefs"], pinned_payload_schema_ref])
    return summary


def derive_dependencies(workflow: Mapping[str, Any]) -> DependencySummary:
    """Recompute a bundle workflow entry's ``dependencies`` from its own content, as the exporter
    would (draft, published versions by ascending version, ``metadata.pinnedPayloadSchemaRef``).

    The importer checks the union of this and the declared summary
    (``merge_dependency_summaries([declared, derived])``).
    """
    draft = workflow.get("draft")
    published = workflow.get("publishedVersions")
    metadata = workflow.get("metadata")
    versions = [v for v in published if isinstance(v, dict)] if isinstance(published, list) else []
    versions.sort(key=_version_number)
    pinned = metadata.get("pinnedPayloadSchemaRef") if isinstance(metadata, dict) else None
    return workflow_dependency_summary(
        draft.get("definition") if isinstance(draft, dict) else None,
        [v.get("definition") for v in versions],
        pinned if isinstance(pinned, str) else None,
    )


def _version_number(version: dict[str, Any]) -> int:
    number = version.get("version")
    return number if isinstance(number, int) else 0
