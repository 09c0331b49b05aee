"""Find the values of a bundle that only mean something in the instance it came from.

Three sources, in document order per definition (the draft first, then each published version):

* literal strings in a reference-marked field of an ``action.call`` step's ``inputMapping`` (the
  action's input schema marks the field with ``x-algaflow-reference``: see
  :mod:`algaflow.registry.references`); an ``$expr`` is computed at run time, so it is no literal
  and is not listed;
* every ``{"$secret": NAME}`` name, kind ``secret``;
* every ``control.callWorkflow`` target that no workflow of the bundle carries as its source id
  (``draft.definition.id``), kind ``workflow`` (calls inside the bundle are rewritten by import).

Pure: no database, nothing mutated. The plan and the import's binding and checking build on
:func:`find_references`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from algaflow.bundle.references import CALL_WORKFLOW
from algaflow.definitions.paths import BRANCHES, step_path
from algaflow.expressions.mapping import is_expr, is_secret_ref
from algaflow.kernel.jsvalues import json_pointer
from algaflow.registry.references import REFERENCE_KEYWORD, SECRET, WORKFLOW

if TYPE_CHECKING:
    from algaflow.registry import Registry

Json = dict[str, Any]
Part = str | int


@dataclass(frozen=True)
class FoundReference:
    """One instance-specific value: where it is and what it names."""

    workflow_key: str
    #: ``None`` for the draft, else the published version number.
    version: int | None
    #: Path components from the bundle's root (``workflows``, index, ...) to the value.
    parts: tuple[Part, ...]
    step_path: str
    kind: str
    value: str

    @property
    def path(self) -> str:
        """The value's JSON pointer in the bundle."""
        return json_pointer(*self.parts)

    def as_json(self) -> Json:
        """The stable form of ``bundle references --json`` and the HTTP route."""
        return {
            "workflowKey": self.workflow_key,
            "version": "draft" if self.version is None else self.version,
            "path": self.path,
            "stepPath": self.step_path,
            "kind": self.kind,
            "value": self.value,
        }


def find_references(bundle: Any, registry: Registry) -> list[FoundReference]:
    """Every instance-specific value of a bundle, in document order.

    Runs before the format check (bindings are applied first), so a malformed part is skipped,
    not refused: the bundle's own checks refuse it afterwards.
    """
    workflows = _list(bundle, "workflows")
    entries = [(i, w) for i, w in enumerate(workflows) if isinstance(w, dict)]
    inside = {_dict(_dict(w, "draft"), "definition").get("id") for _, w in entries}
    found: list[FoundReference] = []
    for index, workflow in entries:
        key = workflow.get("key")
        for version, parts, definition in _definitions(index, workflow):
            found.extend(
                FoundReference(str(key), version, (*parts, *rest), step, kind, value)
                for step, rest, kind, value in _in_definition(definition, inside, registry)
            )
    return found


def _dict(value: Any, key: str) -> Json:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _list(value: Any, key: str) -> list[Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, list) else []


def _definitions(index: int, workflow: Json) -> Iterator[tuple[int | None, tuple[Part, ...], Any]]:
    draft = _dict(workflow, "draft").get("definition")
    yield None, ("workflows", index, "draft", "definition"), draft
    for v_index, version in enumerate(_list(workflow, "publishedVersions")):
        number = version.get("version") if isinstance(version, dict) else None
        if isinstance(number, int) and isinstance(version.get("definition"), dict):
            parts = ("workflows", index, "publishedVersions", v_index, "definition")
            yield number, parts, version["definition"]


def _in_definition(
    definition: Any, inside: set[Any], registry: Registry
) -> Iterator[tuple[str, tuple[Part, ...], str, str]]:
    """``(step path, parts from the definition, kind, value)`` of one definition."""
    steps = definition.get("steps") if isinstance(definition, dict) else None
    for path, step, parts in _steps_with_parts(steps, ("steps",)):
        config = step.get("config")
        if step.get("type") == "action.call" and isinstance(config, dict):
            schema = _input_schema(config, registry)
            if schema is not None and "inputMapping" in config:
                for rest, kind, value in _marked(schema, config["inputMapping"], ()):
                    yield path, (*parts, "config", "inputMapping", *rest), kind, value
        target = step.get("workflowId")
        if step.get("type") == CALL_WORKFLOW and isinstance(target, str) and target not in inside:
            yield path, (*parts, "workflowId"), WORKFLOW, target
        branches = BRANCHES.get(step["type"], ()) if isinstance(step.get("type"), str) else ()
        for key, field in step.items():
            if key not in branches:  # nested steps come as steps of their own
                for rest, name in _secrets(field, (key,)):
                    yield path, (*parts, *rest), SECRET, name


def _steps_with_parts(
    steps: Any, parts: tuple[Part, ...], prefix: str = "root"
) -> Iterator[tuple[str, Json, tuple[Part, ...]]]:
    """Every step depth first, like :func:`~algaflow.definitions.paths.walk_steps`, with its
    path components from the definition."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here, path = (*parts, index), step_path(prefix, index)
        yield path, step, here
        kind = step.get("type")
        for branch in BRANCHES.get(kind, ()) if isinstance(kind, str) else ():
            yield from _steps_with_parts(step.get(branch), (*here, branch), f"{path}.{branch}")


def _input_schema(config: Json, registry: Registry) -> Json | None:
    """The action's input schema when it marks any field (most mark none: skip their mappings)."""
    action_id, version = config.get("actionId"), config.get("version")
    if not isinstance(action_id, str) or not isinstance(version, int):
        return None
    action = registry.actions.get(action_id, version)
    return action.input_schema if action is not None and _marks(action.input_schema) else None


def _marks(schema: Any) -> bool:
    """Whether ``schema`` holds the reference keyword anywhere (schemas are small)."""
    if isinstance(schema, dict):
        return REFERENCE_KEYWORD in schema or any(_marks(v) for v in schema.values())
    return isinstance(schema, list) and any(_marks(v) for v in schema)


def _marked(
    schema: Any, value: Any, parts: tuple[Part, ...]
) -> Iterator[tuple[tuple[Part, ...], str, str]]:
    """Literal strings of ``value`` that ``schema`` marks, with their path components.

    Follows ``properties``, ``additionalProperties`` and ``items``; a marked array marks its
    elements. ``$expr`` and ``$secret`` objects are not literals.
    """
    if not isinstance(schema, dict) or is_expr(value) or is_secret_ref(value):
        return
    kind = schema.get(REFERENCE_KEYWORD)
    if isinstance(kind, str) and isinstance(value, str):
        yield parts, kind, value
    elif isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if isinstance(properties, dict) else None
            yield from _marked(sub if sub is not None else extra, item, (*parts, key))
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(kind, str) and not (isinstance(items, dict) and REFERENCE_KEYWORD in items):
            items = {**(items if isinstance(items, dict) else {}), REFERENCE_KEYWORD: kind}
        for index, item in enumerate(value):
            yield from _marked(items, item, (*parts, index))


def _secrets(value: Any, parts: tuple[Part, ...]) -> Iterator[tuple[tuple[Part, ...], str]]:
    """Every ``$secret`` name in ``value``, with the path components of the name."""
    if is_secret_ref(value):
        yield (*parts, "$secret"), value["$secret"]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secrets(item, (*parts, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secrets(item, (*parts, index))
