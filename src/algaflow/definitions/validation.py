"""Publish validation (Alga's ``validateWorkflowDefinition`` + ``computeValidation``, §5.2/§5.3).

Problems are returned as data, never raised: a draft with errors can still be saved and shown,
and publish refuses only when ``errors`` is non-empty. Each issue is Alga's ``PublishError``
shape with camelCase keys (it goes out over HTTP as is). Validation never stops at the first
problem and tolerates any JSON, including definitions that fail the schema.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from algaflow.definitions.correlation import correlation_paths as known_correlation_paths
from algaflow.expressions import (
    ALLOWED_FUNCTIONS,
    ExpressionError,
    is_expr,
    is_secret_ref,
    is_valid_node_assign_path,
    validate_expression_source,
)
from algaflow.kernel.clock import utcnow

from . import codes, schemawalk
from .model import definition_issues
from .paths import ROOT, enclosing_step_path, iter_steps, walk_steps
from .schedule_rules import cron_problem, is_valid_timezone, parse_instant

if TYPE_CHECKING:
    from algaflow.registry import ActionDef, Registry


class PublishIssue(TypedDict):
    severity: str
    stepPath: str
    code: str
    message: str
    stepId: NotRequired[str]
    suggestion: NotRequired[str]


@dataclass
class ValidationResult:
    errors: list[PublishIssue] = field(default_factory=list)
    warnings: list[PublishIssue] = field(default_factory=list)
    #: Every ``$secret`` name the definition references.
    secret_refs: set[str] = field(default_factory=set)
    #: Alga's ``validation_context_json``.
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        """``error``, ``warning`` or ``valid`` (the ``validation_status`` column)."""
        return "error" if self.errors else "warning" if self.warnings else "valid"

    def add(self, item: PublishIssue) -> None:
        (self.warnings if item["severity"] == "warning" else self.errors).append(item)


def issue(
    code: str,
    step_path: str,
    message: str,
    *,
    step_id: Any = None,
    suggestion: str | None = None,
) -> PublishIssue:
    """One ``PublishError``; the severity follows from the code."""
    out: PublishIssue = {
        "severity": "warning" if code in codes.WARNING_CODES else "error",
        "stepPath": step_path,
        "code": code,
        "message": f"{message.rstrip('.')}. {suggestion}" if suggestion else message,
    }
    if isinstance(step_id, str):
        out["stepId"] = step_id
    if suggestion:
        out["suggestion"] = suggestion
    return out


# --- suggestions -----------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def did_you_mean(name: str, candidates: Any) -> str | None:
    """``Did you mean "<x>"?`` for the closest candidate, if one is close enough."""
    best = min(
        ((levenshtein(name.lower(), c.lower()), c) for c in candidates if isinstance(c, str)),
        default=None,
    )
    if best is None or best[0] > max(2, len(name) // 3):
        return None
    return f'Did you mean "{best[1]}"?'


# --- expressions and mappings ----------------------------------------------------------------

_DISALLOWED_FN = re.compile(r"disallowed function:\s*\$?([\w$]+)")


@functools.lru_cache(maxsize=8192)
def _expression_error(src: str) -> tuple[str, str | None] | None:
    """``(message, suggestion)`` when ``src`` does not pass the expression rules.

    Cached: compiling is the costly part of validation and workflows repeat expressions a lot.
    """
    try:
        validate_expression_source(src)
    except ExpressionError as exc:
        found = _DISALLOWED_FN.search(exc.message)
        return exc.message, did_you_mean(found.group(1), ALLOWED_FUNCTIONS) if found else None
    return None


def iter_exprs(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """``(path, source)`` of every Expr anywhere inside ``value``."""
    if is_expr(value):
        yield where, value["$expr"]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_exprs(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_exprs(item, f"{where}[{index}]")


def iter_secrets(value: Any) -> Iterator[str]:
    """Every ``$secret`` name anywhere inside ``value``."""
    if isinstance(value, dict):
        if isinstance(value.get("$secret"), str):
            yield value["$secret"]
        for item in value.values():
            yield from iter_secrets(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_secrets(item)


def _check_exprs(result: ValidationResult, value: Any, where: str, path: str, step_id: Any) -> None:
    for at, source in iter_exprs(value, where):
        problem = _expression_error(source)
        if problem:
            result.add(
                issue(
                    codes.INVALID_EXPR,
                    path,
                    f"Invalid expression at {at}: {problem[0]}",
                    step_id=step_id,
                    suggestion=problem[1],
                )
            )


SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def validate_input_mapping(
    mapping: Any,
    *,
    step_path: str = ROOT,
    step_id: Any = None,
    where: str = "inputMapping",
    known_secrets: set[str] | None = None,
) -> list[PublishIssue]:
    """Alga's ``validateInputMapping``: empty/invalid expressions, secret names, special keys.

    ``UNKNOWN_SECRET`` is only possible when ``known_secrets`` is given (publish does not pass it;
    a missing tenant secret is ``SECRET_NOT_FOUND`` there instead).
    """
    found: list[PublishIssue] = []

    def visit(value: Any, at: str) -> None:
        if isinstance(value, dict) and "$expr" in value:
            source = value["$expr"]
            if not isinstance(source, str) or not source.strip():
                found.append(
                    issue(
                        codes.EMPTY_EXPRESSION,
                        step_path,
                        f"{at}: expression is empty",
                        step_id=step_id,
                    )
                )
                return
            problem = _expression_error(source)
            if problem:
                found.append(
                    issue(
                        codes.INVALID_EXPRESSION,
                        step_path,
                        f"{at}: {problem[0]}",
                        step_id=step_id,
                        suggestion=problem[1],
                    )
                )
        elif isinstance(value, dict) and "$secret" in value:
            name = value["$secret"]
            if not isinstance(name, str) or len(name) > 255 or not SECRET_NAME.fullmatch(name):
                found.append(
                    issue(
                        codes.INVALID_SECRET_NAME,
                        step_path,
                        f"{at}: invalid secret name {json.dumps(name, default=str)}; names match "
                        "^[A-Z][A-Z0-9_]*$ (at most 255 characters)",
                        step_id=step_id,
                    )
                )
            elif known_secrets is not None and name not in known_secrets:
                found.append(
                    issue(
                        codes.UNKNOWN_SECRET,
                        step_path,
                        f'{at}: secret "{name}" does not exist',
                        step_id=step_id,
                    )
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and key.startswith("$"):
                    found.append(
                        issue(
                            codes.UNKNOWN_SPECIAL_KEY,
                            step_path,
                            f'{at}: unknown special key "{key}" (only $expr and $secret are '
                            "special); it is passed on as a literal key",
                            step_id=step_id,
                        )
                    )
                visit(item, f"{at}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{at}[{index}]")

    if isinstance(mapping, dict):
        visit(mapping, where)
    return found


# --- schema-based checks ---------------------------------------------------------------------


def unknown_mapping_fields(
    action: ActionDef, mapping: Mapping[str, Any], *, step_path: str, step_id: Any
) -> list[PublishIssue]:
    """A warning per mapped field the action's input schema surely does not declare: an action
    drops fields it does not know, so such a mapping (``value`` for an input called ``text``)
    would leave the run silently without it. Schemas that may allow other fields give none."""
    schema = action.input_schema
    unknown = [k for k in mapping if schemawalk.property_schema(schema, schema, k) is False]
    if not unknown:
        return []
    properties = (schemawalk.resolve(schema, schema) or {}).get("properties") or {}
    inputs = ", ".join(sorted(properties)) or "none"
    return [
        issue(
            codes.UNKNOWN_MAPPING_FIELD,
            step_path,
            f'Input "{key}" is not an input of action {action.id}@{action.version}'
            f" (its inputs: {inputs}); it would be dropped",
            step_id=step_id,
            suggestion=did_you_mean(key, properties),
        )
        for key in unknown
    ]


def _missing_required(
    schema: Any, root: Any, mapping: dict[str, Any], prefix: str
) -> Iterator[str]:
    node = schemawalk.resolve(schema, root)
    if node is None:
        return
    for name in node.get("required") or []:
        child = schemawalk.property_schema(node, root, name) if isinstance(name, str) else None
        if not isinstance(name, str) or (isinstance(child, Mapping) and "default" in child):
            continue
        if name not in mapping:
            yield f"{prefix}{name}"
            continue
        value = mapping[name]
        if isinstance(value, dict) and "$expr" not in value and "$secret" not in value and child:
            yield from _missing_required(child, root, value, f"{prefix}{name}.")


def _pointer_segments(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _payload_segments(path: str) -> list[str] | None:
    """The payload property path an assignment writes, or ``None`` if it is not the payload."""
    if path.startswith("payload."):
        return path[len("payload.") :].split(".")
    if path.startswith("/"):
        return _pointer_segments(path)
    return None


def _check_assign_paths(
    result: ValidationResult,
    assign: Any,
    *,
    step_path: str,
    step_id: Any,
    payload_schema: Any,
    check_known: bool,
) -> None:
    if not isinstance(assign, dict):
        return
    for path in assign:
        if not is_valid_node_assign_path(path):
            result.add(
                issue(
                    codes.INVALID_ASSIGN_PATH,
                    step_path,
                    f'Invalid assignment path "{path}": it must start with payload., vars., meta., '
                    "error. or / and must not contain __proto__, prototype or constructor",
                    step_id=step_id,
                )
            )
            continue
        segments = _payload_segments(path) if check_known and payload_schema else None
        if segments and schemawalk.lookup(payload_schema, payload_schema, segments) is False:
            result.add(
                issue(
                    codes.ASSIGN_PATH_UNKNOWN,
                    step_path,
                    f'Assignment path "{path}" is not declared in the payload schema',
                    step_id=step_id,
                )
            )


# --- event.wait correlation (§7.2) -----------------------------------------------------------


def correlation_paths_for(event_name: str, paths: Mapping[str, list[str]]) -> list[str]:
    out: list[str] = []
    for path in [*paths.get(event_name, []), *paths.get("*", [])]:
        if path not in out:
            out.append(path)
    return out


# --- step ids ---------------------------------------------------------------------------------

_STEP_INDEX = re.compile(r"\.steps\[\d+\]")


def duplicate_step_ids(steps: Any) -> Iterator[tuple[str, str]]:
    """``(path, id)`` of each step whose id repeats a sibling's or an enclosing step's id.

    Alga's check is tree-wide, but workflows Alga itself exports reuse ids in separate branches
    (``then``/``else``, ``try``/``catch``); those ids never meet at runtime, so only ids that
    share a step list or enclose each other (``vars.__forEach[<id>]``) are refused.
    """
    ids: dict[str, str] = {}
    siblings: dict[str, set[str]] = {}
    for path, step in walk_steps(steps):
        step_id = step.get("id")
        if not isinstance(step_id, str):
            continue
        ids[path] = step_id
        listed = siblings.setdefault(path[: path.rindex(".steps[")], set())
        enclosing = {ids.get(path[: m.end()]) for m in list(_STEP_INDEX.finditer(path))[:-1]}
        if step_id in listed or step_id in enclosing:
            yield path, step_id
        listed.add(step_id)


# --- the step walk (§5.2) --------------------------------------------------------------------


@dataclass
class _Walk:
    registry: Registry
    result: ValidationResult
    payload_schema: Any
    correlation_paths: Mapping[str, list[str]]
    #: (secret name, step path, step id) for SECRET_NOT_FOUND.
    secret_uses: list[tuple[str, str, Any]] = field(default_factory=list)

    def step(self, path: str, step: dict[str, Any]) -> None:
        kind, step_id = step.get("type"), step.get("id")
        if kind == "control.if":
            _check_exprs(self.result, step.get("condition"), "condition", path, step_id)
        elif kind == "control.forEach":
            _check_exprs(self.result, step.get("items"), "items", path, step_id)
        elif kind == "control.callWorkflow":
            for name in ("inputMapping", "outputMapping"):
                _check_exprs(self.result, step.get(name), name, path, step_id)
        elif isinstance(kind, str) and kind and not kind.startswith("control."):
            self.node(path, step, kind, step_id)

    def node(self, path: str, step: dict[str, Any], kind: str, step_id: Any) -> None:
        node = self.registry.nodes.get(kind)
        if node is None:
            self.result.add(
                issue(
                    codes.UNKNOWN_NODE_TYPE,
                    path,
                    f'Unknown node type "{kind}"',
                    step_id=step_id,
                    suggestion=did_you_mean(kind, self.registry.nodes.ids()),
                )
            )
            return
        config = step.get("config")
        if not _js_truthy(config):
            return  # Alga checks nothing more without a config (the step then fails at runtime)
        _, problems = node.validate_config(config)
        if problems:
            text = "; ".join(
                f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in problems
            )
            self.result.add(
                issue(codes.INVALID_CONFIG, path, f"Invalid {kind} config: {text}", step_id=step_id)
            )
        _check_exprs(self.result, config, "config", path, step_id)
        if not isinstance(config, dict):
            return
        if kind == "action.call":
            self.action_call(path, config, step_id)
        elif kind in ("transform.assign", "time.wait", "event.wait"):
            _check_assign_paths(
                self.result,
                config.get("assign"),
                step_path=path,
                step_id=step_id,
                payload_schema=self.payload_schema,
                check_known=kind != "event.wait",
            )
            if kind == "event.wait":
                self.event_wait(path, config, step_id)

    def action_call(self, path: str, config: dict[str, Any], step_id: Any) -> None:
        for name in iter_secrets(config):
            self.result.secret_refs.add(name)
            self.secret_uses.append((name, path, step_id))
        action_id, version = config.get("actionId"), config.get("version")
        if not action_id or not isinstance(action_id, str) or version is None:
            self.result.add(
                issue(
                    codes.INVALID_ACTION_CONFIG,
                    path,
                    "action.call requires config.actionId and config.version",
                    step_id=step_id,
                )
            )
            return
        action = self.registry.actions.get(action_id, version)
        if action is None:
            versions = self.registry.actions.versions(action_id)
            hint = (
                f'Action "{action_id}" exists at version(s) {", ".join(map(str, versions))}.'
                if versions
                else did_you_mean(action_id, self.registry.actions.ids())
            )
            self.result.add(
                issue(
                    codes.UNKNOWN_ACTION,
                    path,
                    f'Unknown action "{action_id}@{version}"',
                    step_id=step_id,
                    suggestion=hint,
                )
            )
            return
        mapping = config.get("inputMapping")
        if "inputMapping" in config:
            for found in validate_input_mapping(mapping, step_path=path, step_id=step_id):
                self.result.add(found)
        if action_id == "ai.infer":
            problem = ai_output_schema_problem(config)
            if problem:
                self.result.add(
                    issue(codes.INVALID_AI_OUTPUT_SCHEMA, path, problem, step_id=step_id)
                )
        schema = action.input_schema
        given = mapping if isinstance(mapping, dict) else {}
        for missing in _missing_required(schema, schema, given, ""):
            self.result.add(
                issue(
                    codes.MISSING_REQUIRED_MAPPING,
                    path,
                    f'Missing required input "{missing}" for action {action_id}@{version}',
                    step_id=step_id,
                )
            )
        for found in unknown_mapping_fields(action, given, step_path=path, step_id=step_id):
            self.result.add(found)

    def event_wait(self, path: str, config: dict[str, Any], step_id: Any) -> None:
        event_name = config.get("eventName")
        if not isinstance(event_name, str):
            return
        keys = correlation_paths_for(event_name, self.correlation_paths)
        if keys:
            self.result.add(
                issue(
                    codes.EVENT_WAIT_CORRELATION_CONTRACT,
                    path,
                    f"The wait resumes only when correlationKey evaluates to the value of one of "
                    f'the "{event_name}" event\'s correlation fields: {", ".join(keys)}',
                    step_id=step_id,
                )
            )
        else:
            self.result.add(
                issue(
                    codes.EVENT_WAIT_UNCORRELATABLE,
                    path,
                    f'Events "{event_name}" carry no correlation fields, so no event can resume '
                    "this wait",
                    step_id=step_id,
                )
            )


def _js_truthy(value: Any) -> bool:
    return isinstance(value, dict | list) or bool(value)


def ai_output_schema_problem(config: Mapping[str, Any]) -> str | None:
    """Why the inline AI output schema of an ``ai.infer`` call is unusable, if it is."""
    mode = config.get("aiOutputSchemaMode")
    if mode is not None and mode not in ("simple", "advanced"):
        return f'aiOutputSchemaMode must be "simple" or "advanced", got {mode!r}'
    schema = config.get("aiOutputSchema")
    text = config.get("aiOutputSchemaText")
    if schema is None and mode == "advanced" and isinstance(text, str) and text.strip():
        try:
            schema = json.loads(text)
        except ValueError as exc:
            return f"aiOutputSchemaText is not valid JSON: {exc}"
    if schema is None:
        return None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return 'The AI output schema must be a JSON Schema object with "type": "object"'
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        return f"The AI output schema is not a valid JSON Schema: {exc.message}"
    return None


# --- the typed mapping check (§5.3) ----------------------------------------------------------

_SIMPLE_PATH = re.compile(r"\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*")


class _Unresolved:
    pass


UNRESOLVED = _Unresolved()


def _normalise_save_as(path: str) -> str:
    """The interpreter's ``assignToScopePath`` routing of a ``saveAs`` (§2.8 (2))."""
    path = path.strip() or "vars"
    if path.startswith("/"):
        path = ".".join(_pointer_segments(path))
    if not path.startswith(("payload.", "vars.", "meta.", "local.")) and path != "vars":
        path = f"vars.{path}"
    return path


@dataclass
class _TypeScope:
    """What the type check knows: the payload schema and earlier actions' outputs by saveAs."""

    payload_schema: Any
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path_types(self, path: str) -> set[str] | _Unresolved | None:
        head, _, rest = path.partition(".")
        segments = rest.split(".") if rest else []
        if head == "payload" and self.payload_schema:
            return _types_at(self.payload_schema, segments)
        for saved in sorted(self.outputs, key=len, reverse=True):
            if path == saved or path.startswith(saved + "."):
                tail = path[len(saved) + 1 :]
                return _types_at(self.outputs[saved], tail.split(".") if tail else [])
        return None


def _types_at(schema: Any, segments: list[str]) -> set[str] | _Unresolved | None:
    found = schemawalk.lookup(schema, schema, segments)
    if found is False:
        return UNRESOLVED
    return None if found is None else schemawalk.json_types(found, schema)


def _source_types(value: Any, scope: _TypeScope, event_scope: bool) -> Any:
    if is_secret_ref(value):
        return {"string"}
    if is_expr(value):
        match = _SIMPLE_PATH.fullmatch(value["$expr"])
        if not match:
            return None
        path = match.group(1)
        if event_scope:
            if not path.startswith("event.payload."):
                return None
            return _types_at(scope.payload_schema, path.split(".")[2:])
        return scope.path_types(path)
    if isinstance(value, dict) and ("$expr" in value or "$secret" in value):
        return None
    return {schemawalk.value_type(value)}


def _compare_mapping(
    result: ValidationResult,
    mapping: dict[str, Any],
    target: Any,
    scope: _TypeScope,
    *,
    step_path: str,
    step_id: Any,
    event_scope: bool = False,
) -> None:
    for key, value in mapping.items():
        segments = key.split(".") if event_scope else [key]
        expected = schemawalk.json_types(
            schemawalk.lookup(target, target, segments) or None, target
        )
        if not expected:
            continue
        found = _source_types(value, scope, event_scope)
        if found is UNRESOLVED:
            result.add(
                issue(
                    codes.MAPPING_TYPE_UNKNOWN,
                    step_path,
                    f'Cannot tell the type of "{key}": its source path is not in a known schema '
                    f"(expected {' | '.join(sorted(expected))})",
                    step_id=step_id,
                )
            )
        elif found and not schemawalk.types_compatible(found, expected):
            result.add(
                issue(
                    codes.MAPPING_TYPE_INCOMPATIBLE,
                    step_path,
                    f'"{key}" is mapped from {" | ".join(sorted(found))} but the target expects '
                    f"{' | '.join(sorted(expected))}",
                    step_id=step_id,
                )
            )


def _check_action_types(
    result: ValidationResult, steps: Any, registry: Registry, payload_schema: Any
) -> None:
    scope = _TypeScope(payload_schema)
    for step in iter_steps(steps):
        config = step.get("config")
        if step.get("type") != "action.call" or not isinstance(config, dict):
            continue
        action_id = config.get("actionId")
        if not isinstance(action_id, str):
            continue
        action = registry.actions.get(action_id, config.get("version"))  # type: ignore[arg-type]
        if action is None:
            continue
        if isinstance(config.get("inputMapping"), dict):
            _compare_mapping(
                result,
                config["inputMapping"],
                action.input_schema,
                scope,
                step_path=f"root.steps.{step.get('id')}.config.inputMapping",
                step_id=step.get("id"),
            )
        if isinstance(config.get("saveAs"), str):
            scope.outputs[_normalise_save_as(config["saveAs"])] = action.output_schema


# --- trigger and payload schema checks (§5.3) ------------------------------------------------


def _check_time_trigger(result: ValidationResult, trigger: dict[str, Any], now: datetime) -> None:
    if trigger.get("type") == "schedule":
        run_at = trigger.get("runAt")
        if not isinstance(run_at, str) or not run_at.strip():
            result.add(
                issue(codes.TIME_TRIGGER_RUN_AT_REQUIRED, ROOT, "A schedule trigger needs runAt")
            )
            return
        moment = parse_instant(run_at)
        if moment is None or moment <= now:
            result.add(
                issue(
                    codes.TIME_TRIGGER_INVALID_RUN_AT,
                    ROOT,
                    f'runAt "{run_at}" must be a valid ISO timestamp in the future',
                )
            )
    elif trigger.get("type") == "recurring":
        cron = trigger.get("cron")
        problem = cron_problem(cron) if isinstance(cron, str) else "A recurring trigger needs cron"
        if problem:
            result.add(issue(codes.TIME_TRIGGER_INVALID_CRON, ROOT, problem))
        if not is_valid_timezone(trigger.get("timezone")):
            result.add(
                issue(
                    codes.TIME_TRIGGER_INVALID_TIMEZONE,
                    ROOT,
                    f"Invalid IANA time zone {json.dumps(trigger.get('timezone'))}",
                )
            )


_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PAYLOAD_ROOT = re.compile(r"(?<![\w.$])payload\s*\.")


def uses_payload_root(source: str) -> bool:
    """Whether an expression reads ``payload.`` at its root (outside string literals)."""
    return bool(_PAYLOAD_ROOT.search(_STRING_LITERAL.sub("''", source)))


def _mapped_paths(mapping: dict[str, Any]) -> set[str]:
    """Dotted paths a trigger mapping writes (keys expand; literal objects add their keys)."""
    covered: set[str] = set()

    def add(path: str, value: Any) -> None:
        covered.add(path)
        if isinstance(value, dict) and "$expr" not in value and "$secret" not in value:
            for key, item in value.items():
                add(f"{path}.{key}", item)

    for key, value in mapping.items():
        add(key, value)
    return covered


def _is_covered(path: str, covered: set[str]) -> bool:
    if any(path == c or path.startswith(c + ".") for c in covered):
        return True
    return any(c.startswith(path + ".") for c in covered)


@dataclass
class _TriggerCheck:
    registry: Registry
    result: ValidationResult
    definition: dict[str, Any]
    payload_schema: Any
    event_catalog: Mapping[str, str] | None
    secret_uses: list[tuple[str, str, Any]]

    def run(self, trigger: dict[str, Any]) -> tuple[str | None, str]:
        """Check an event trigger; returns ``(source ref, known|missing|unknown)``."""
        event_name = trigger.get("eventName")
        override = trigger.get("sourcePayloadSchemaRef")
        workflow_ref = self.definition.get("payloadSchemaRef")
        catalog_ref = (
            self.event_catalog.get(event_name)
            if self.event_catalog and isinstance(event_name, str)
            else None
        )
        if self.event_catalog and catalog_ref is None and not override:
            self.result.add(
                issue(
                    codes.UNKNOWN_TRIGGER_EVENT,
                    ROOT,
                    f'Unknown trigger event "{event_name}"',
                    suggestion=did_you_mean(str(event_name), self.event_catalog),
                )
            )
        # Without an event catalog the workflow's own payload schema describes the event.
        own = not override and not self.event_catalog
        source = override or catalog_ref or (workflow_ref if own else None)
        status = (
            "missing"
            if not isinstance(source, str) or not source
            else ("known" if self.registry.schemas.has(source) else "unknown")
        )
        if status == "missing" or (status == "unknown" and not own):
            self.result.add(
                issue(
                    codes.UNKNOWN_TRIGGER_SOURCE_SCHEMA_REF,
                    ROOT,
                    f'Trigger source payload schema "{source}" is not registered'
                    if source
                    else f'No source payload schema is known for event "{event_name}"',
                )
            )
        mapping = trigger.get("payloadMapping")
        if not isinstance(mapping, dict) or not mapping:
            if status != "missing" and source != workflow_ref:
                self.result.add(
                    issue(
                        codes.TRIGGER_MAPPING_REQUIRED,
                        ROOT,
                        f'The event payload ("{source}") differs from the workflow payload '
                        f'("{workflow_ref}"): add a trigger payloadMapping',
                    )
                )
            return source, status
        self.mapping(mapping, source if status == "known" else None)
        return source, status

    def mapping(self, mapping: dict[str, Any], source_ref: str | None) -> None:
        where = "trigger.payloadMapping"
        for found in validate_input_mapping(mapping, where=where):
            self.result.add(found)
        for at, source in iter_exprs(mapping, where):
            if uses_payload_root(source):
                self.result.add(
                    issue(
                        codes.TRIGGER_MAPPING_INVALID_ROOT,
                        ROOT,
                        f"{at}: trigger mappings read the event as event.payload…, not payload…",
                    )
                )
        for name in iter_secrets(mapping):
            self.result.secret_refs.add(name)
            self.secret_uses.append((name, ROOT, None))
        if self.payload_schema:
            covered = _mapped_paths(mapping)
            missing = [
                p
                for p in schemawalk.required_paths(self.payload_schema, self.payload_schema)
                if not _is_covered(p, covered)
            ]
            if missing:
                self.result.add(
                    issue(
                        codes.TRIGGER_MAPPING_MISSING_REQUIRED_FIELDS,
                        ROOT,
                        f"The trigger mapping does not set required payload field(s): "
                        f"{', '.join(missing)}",
                    )
                )
            source_schema = self.registry.schemas.to_json_schema(source_ref) if source_ref else None
            _compare_mapping(
                self.result,
                mapping,
                self.payload_schema,
                _TypeScope(source_schema),
                step_path=ROOT,
                step_id=None,
                event_scope=True,
            )


# --- entry points ----------------------------------------------------------------------------


def payload_schema_snapshot(registry: Registry, ref: Any) -> dict[str, Any] | None:
    """The registry's JSON Schema for ``ref`` (wrapped form, keys sorted), or ``None``."""
    if not isinstance(ref, str) or not registry.schemas.has(ref):
        return None
    return schemawalk.sort_keys(registry.schemas.to_json_schema(ref))


def validate_definition(
    definition: Any,
    registry: Registry,
    *,
    payload_schema_json: Any = None,
    known_secrets: set[str] | None = None,
    event_catalog: Mapping[str, str] | None = None,
    correlation_paths: Mapping[str, list[str]] | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """Every check of reference §5.2 and §5.3, as data.

    ``payload_schema_json`` defaults to the registry's snapshot of ``payloadSchemaRef``.
    ``known_secrets`` (the tenant's secret names) enables ``SECRET_NOT_FOUND``; ``event_catalog``
    (event name -> source schema ref) enables ``UNKNOWN_TRIGGER_EVENT``: without one, an event's
    payload is described by the trigger's ``sourcePayloadSchemaRef`` or the workflow's own ref.
    """
    result = ValidationResult()
    for found in definition_issues(definition):
        result.add(
            issue(
                codes.INVALID_WORKFLOW_DEFINITION,
                enclosing_step_path(found["path"]),
                f"{found['path']}: {found['message']}",
            )
        )
    try:
        json.dumps(definition, allow_nan=True)
    except (TypeError, ValueError) as exc:
        result.add(issue(codes.NON_SERIALIZABLE, ROOT, f"The definition is not JSON: {exc}"))
    if not isinstance(definition, dict):
        return result
    ref = definition.get("payloadSchemaRef")
    if payload_schema_json is None:
        payload_schema_json = payload_schema_snapshot(registry, ref)

    if correlation_paths is None:
        correlation_paths = known_correlation_paths()
    walk = _Walk(registry, result, payload_schema_json, correlation_paths)
    steps = definition.get("steps")
    for path, step in walk_steps(steps):
        walk.step(path, step)
    for path, step_id in duplicate_step_ids(steps):
        result.add(
            issue(codes.DUPLICATE_STEP_ID, path, f'Duplicate step id "{step_id}"', step_id=step_id)
        )

    trigger = definition.get("trigger")
    source_ref, source_status = None, None
    if isinstance(trigger, dict):
        _check_time_trigger(result, trigger, now or utcnow())
    if not isinstance(ref, str) or not ref.strip():
        result.add(issue(codes.PAYLOAD_SCHEMA_REF_MISSING, ROOT, "payloadSchemaRef is required"))
    elif not registry.schemas.has(ref):
        message = f'Unknown payload schema ref "{ref}"'
        result.add(issue(codes.PAYLOAD_SCHEMA_REF_UNKNOWN, ROOT, message))
        result.add(
            issue(
                codes.UNKNOWN_PAYLOAD_SCHEMA_REF,
                ROOT,
                message,
                suggestion=did_you_mean(ref, registry.schemas.refs()),
            )
        )
    if isinstance(trigger, dict) and trigger.get("type") == "event":
        check = _TriggerCheck(
            registry, result, definition, payload_schema_json, event_catalog, walk.secret_uses
        )
        source_ref, source_status = check.run(trigger)
    _check_action_types(result, steps, registry, payload_schema_json)
    if known_secrets is not None:
        for name, path, step_id in walk.secret_uses:
            if name not in known_secrets:
                result.add(
                    issue(
                        codes.SECRET_NOT_FOUND,
                        path,
                        f'Secret "{name}" does not exist',
                        step_id=step_id,
                    )
                )
    result.context = {
        "payloadSchemaRef": ref if isinstance(ref, str) else None,
        "payloadSchemaHash": schemawalk.schema_hash(payload_schema_json),
        "triggerSourceSchemaRef": source_ref,
        "triggerSchemaRefStatus": source_status,
    }
    return result
