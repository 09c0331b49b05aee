"""Every example of the definition guide runs, through the HTTP API, as the guide says it does.

``docs/guides/workflows/definitions.md`` holds fenced blocks the test reads:

* ```` ```json schema ```` : the payload schema the examples use (a schema-folder file, loaded the
  way ``ALGAFLOW_SCHEMA_DIRS`` loads it);
* ```` ```json example name=NAME ```` : a complete definition, followed by
  ```` ```json expected ````: how to run it and what the run must end with;
* ```` ```json invalid name=NAME codes=A,B ```` : a definition publish validation must refuse
  with (at least) those codes.

Each example is created, published (must be ``ok``), started, driven through its waits (events,
human tasks; a background worker fires timers and delayed retries, as ``algaflow serve`` does) and
checked with ``GET /api/workflow-runs/{id}``. Every node type the registry lists and every
control block of the definition model needs an example under a heading that names it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.definitions.model import CONTROL_BLOCKS
from algaflow.registry import default_registry
from algaflow.registry.plugins import load_schema_dir

Api = Any  # tests/api/conftest.py's Api: the in-process client, tenant and key

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "workflows" / "definitions.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.+?)\s*$", re.M)
PLACEHOLDER = re.compile(r"\{\{workflowId:(?P<name>[a-z0-9-]+)\}\}")
EXPECTED_KEYS = {
    "payload", "startEvent", "uses", "secrets", "then", "status", "vars", "error", "logs", "task",
}  # fmt: skip
FINAL = {"SUCCEEDED", "FAILED", "CANCELED"}
#: Longest an example may take: timers and delayed retries wait for the worker's next pass.
DEADLINE_S = 30.0


@dataclass
class Example:
    name: str
    definition: dict[str, Any]
    expected: dict[str, Any]
    heading: str
    line: int

    @property
    def step_types(self) -> set[str]:
        return set(_step_types(self.definition.get("steps")))


@dataclass
class Invalid:
    name: str
    definition: dict[str, Any]
    codes: list[str]


@dataclass
class Guide:
    schema: dict[str, Any] | None = None
    examples: dict[str, Example] = field(default_factory=dict)
    invalid: dict[str, Invalid] = field(default_factory=dict)
    headings: list[str] = field(default_factory=list)


def _attrs(info: str) -> tuple[list[str], dict[str, str]]:
    words = info.split()
    pairs = dict(w.split("=", 1) for w in words if "=" in w)
    return [w for w in words if "=" not in w], pairs


def _step_types(steps: Any) -> Iterator[str]:
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("type"), str):
            yield step["type"]
        for branch in ("then", "else", "body", "try", "catch"):
            yield from _step_types(step.get(branch))


def parse_guide(text: str) -> Guide:
    """The guide's tested blocks; a malformed block is an error, never silently skipped."""
    guide = Guide()
    headings = [(m.start(), m.group("text")) for m in HEADING.finditer(text)]
    fences = list(FENCE.finditer(text))
    # Headings inside fenced blocks are not headings.
    headings = [h for h in headings if not any(f.start() < h[0] < f.end() for f in fences)]
    guide.headings = [h for _, h in headings]
    pending: Example | None = None
    for fence in fences:
        words, attrs = _attrs(fence.group("info"))
        line = text.count("\n", 0, fence.start()) + 1
        kind = words[1] if len(words) > 1 and words[0] == "json" else None
        if pending is not None and kind != "expected":
            raise AssertionError(
                f"line {pending.line}: example {pending.name} has no expected block"
            )
        if kind is None:
            continue
        body = json.loads(fence.group("body"))
        if kind == "schema":
            assert guide.schema is None, f"line {line}: a second schema block"
            guide.schema = body
        elif kind == "example":
            name = attrs["name"]
            assert name not in guide.examples, f"line {line}: example {name} twice"
            heading = max((h for h in headings if h[0] < fence.start()), default=(0, ""))[1]
            pending = Example(name, body, {}, heading, line)
        elif kind == "expected":
            assert pending is not None, f"line {line}: an expected block without an example"
            unknown = set(body) - EXPECTED_KEYS
            assert not unknown, f"line {line}: unknown expected keys {sorted(unknown)}"
            assert "status" in body, f"line {line}: expected needs a status"
            pending.expected = body
            guide.examples[pending.name] = pending
            pending = None
        elif kind == "invalid":
            name = attrs["name"]
            guide.invalid[name] = Invalid(name, body, attrs["codes"].split(","))
        else:
            raise AssertionError(f"line {line}: unknown block kind {kind!r}")
    assert pending is None, f"example {pending.name} has no expected block"
    return guide


GUIDE_DATA = parse_guide(GUIDE.read_text(encoding="utf-8"))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def registry(tmp_path):
    """The default registry plus the guide's payload schema, loaded from a schema folder."""
    assert GUIDE_DATA.schema is not None, "the guide has no ```json schema block"
    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "guide.json").write_text(json.dumps(GUIDE_DATA.schema), encoding="utf-8")
    registry = default_registry()
    load_schema_dir(registry, folder)
    return registry


@pytest.fixture
def app(engine, db_url, registry):
    """Like ``algaflow serve``: with the background worker that fires timers and retries."""
    return create_app(
        Settings(database_url=db_url, max_body_bytes=1_000_000),
        engine=engine,
        registry=registry,
        background_worker=True,
    )


# --- driving an example through the API --------------------------------------------------------


def _substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: ids[m.group("name")], value)
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, ids) for k, v in value.items()}
    return value


def create_and_publish(api: Api, example: Example, ids: dict[str, str]) -> str:
    """Create the workflow from the example's definition and publish it; its workflow id."""
    for used in example.expected.get("uses", []):
        if used not in ids:
            ids[used] = create_and_publish(api, GUIDE_DATA.examples[used], ids)
    definition = _substitute(example.definition, ids)
    created = api.client.post(
        "/api/workflow-definitions", json={"key": f"guide.{example.name}", "definition": definition}
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["workflowId"]
    published = api.client.post(
        f"/api/workflow-definitions/{workflow_id}/{definition['version']}/publish", json={}
    ).json()
    assert published.get("ok") is True, f"{example.name} does not publish: {published}"
    return workflow_id


def run_view(api: Api, run_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/workflow-runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(api: Api, run_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        view = run_view(api, run_id)
        if view["status"] in statuses or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


def start(api: Api, example: Example, workflow_id: str) -> str:
    """Start the run: manually with ``payload``, or by sending ``startEvent`` to the trigger."""
    event = example.expected.get("startEvent")
    if event is None:
        body = {"workflowId": workflow_id, "payload": example.expected.get("payload", {})}
        started = api.client.post("/api/workflow-runs", json=body)
        assert started.status_code == 201, started.text
        return started.json()["runId"]
    sent = api.client.post("/api/workflow/events?wait=true", json=event)
    assert sent.status_code == 200, sent.text
    assert not sent.json().get("errors"), sent.json()
    runs = api.client.get("/api/workflow-runs", params={"workflowId": workflow_id}).json()
    assert len(runs) == 1, f"the start event started {len(runs)} runs"
    return runs[0]["runId"]


def drive(api: Api, run_id: str, action: dict[str, Any]) -> None:
    """One ``then`` action, once the run waits: send an event (which resumes the run unless
    ``"resumes": false``) or complete the open task."""
    view = wait_for(api, run_id, {"WAITING"} | FINAL)
    assert view["status"] == "WAITING", f"expected a waiting run, got {view['status']}"
    if "event" in action:
        sent = api.client.post("/api/workflow/events?wait=true", json=action["event"])
        assert sent.status_code == 200, sent.text
        resumed = run_id in sent.json()["resumedRuns"]
        assert resumed is action.get("resumes", True), sent.json()
    elif "task" in action:
        tasks = api.client.get("/api/workflow/tasks", params={"runId": run_id}).json()
        assert len(tasks) == 1, tasks
        done = api.client.post(
            "/api/workflow/tasks", json={"taskId": tasks[0]["taskId"], "output": action["task"]}
        )
        assert done.status_code == 200, done.text
    else:
        raise AssertionError(f"unknown then action {action}")


def check_task(api: Api, run_id: str, expected: dict[str, Any]) -> None:
    """The task the run opened (completed by now) has the expected fields."""
    tasks = api.client.get(
        "/api/workflow/tasks", params={"runId": run_id, "status": "COMPLETED"}
    ).json()
    assert len(tasks) == 1, f"the run completed {len(tasks)} human tasks"
    for key, value in expected.items():
        assert tasks[0][key] == value, f"task {key}: {tasks[0][key]!r} != {value!r}"


def matches(actual: Any, expected: Any) -> bool:
    """JSON equality: ``9`` equals ``9.0`` but not ``true`` (Python's ``1 == True`` holds)."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(matches(actual[k], v) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (actual, expected)
    )
    return bool(actual == expected) and (numbers or type(actual) is type(expected))


def check_run(view: dict[str, Any], expected: dict[str, Any]) -> None:
    """The run's status, then each listed variable, error field and log line (in order)."""
    assert view["status"] == expected["status"], (
        f"status {view['status']} != {expected['status']}; error {view['error']}"
    )
    variables = view["vars"] or {}
    for name, value in expected.get("vars", {}).items():
        assert name in variables, f"vars.{name} is missing; vars: {variables}"
        assert matches(variables[name], value), f"vars.{name}: {variables[name]!r} != {value!r}"
    for key, value in expected.get("error", {}).items():
        error = view["error"] or {}
        assert key in error and matches(error[key], value), f"run error {error}"
    messages = iter(line["message"] for line in view["logs"])
    for wanted in expected.get("logs", []):
        assert any(wanted in m for m in messages), f"no log line {wanted!r} (in this order)"


def run_example(api: Api, example: Example, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in example.expected.get("secrets", {}).items():
        monkeypatch.setenv(f"ALGAFLOW_SECRET_{name}", value)
    workflow_id = create_and_publish(api, example, {})
    run_id = start(api, example, workflow_id)
    for action in example.expected.get("then", []):
        drive(api, run_id, action)
    if "task" in example.expected:
        check_task(api, run_id, example.expected["task"])
    return wait_for(api, run_id, FINAL)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GUIDE_DATA.examples))
def test_example_runs_as_documented(api, monkeypatch, name):
    example = GUIDE_DATA.examples[name]
    check_run(run_example(api, example, monkeypatch), example.expected)


@pytest.mark.parametrize("name", sorted(GUIDE_DATA.invalid))
def test_invalid_example_is_refused_with_its_codes(api, name):
    invalid = GUIDE_DATA.invalid[name]
    result = api.client.post(
        "/api/workflow-definitions/validate", json={"definition": invalid.definition}
    ).json()
    assert result["ok"] is False, result
    found = {e["code"] for e in result["errors"]} | {w["code"] for w in result["warnings"]}
    assert set(invalid.codes) <= found, f"{name}: wanted {invalid.codes}, got {sorted(found)}"


def test_every_step_type_has_an_example_under_its_heading(api):
    """Node types come from the registry over HTTP, control blocks from the definition model."""
    nodes = api.client.get("/api/workflow/registry/nodes").json()
    step_types = {n["id"] for n in nodes} | set(CONTROL_BLOCKS)
    missing = [
        kind
        for kind in sorted(step_types)
        if not any(
            f"`{kind}`" in ex.heading and kind in ex.step_types
            for ex in GUIDE_DATA.examples.values()
        )
    ]
    assert not missing, f"step types without an example under a heading naming them: {missing}"


def test_a_wrong_expectation_fails(api, monkeypatch):
    """The checker is not vacuous: the first example with one expectation changed fails."""
    example = next(ex for ex in GUIDE_DATA.examples.values() if ex.expected.get("vars"))
    view = run_example(api, example, monkeypatch)
    check_run(view, example.expected)
    name, value = next(iter(example.expected["vars"].items()))
    with pytest.raises(AssertionError):
        check_run(view, {**example.expected, "vars": {name: [value]}})
    with pytest.raises(AssertionError):
        check_run(view, {**example.expected, "status": "CANCELED"})


def test_matches_compares_json_values():
    assert matches({"a": [1, "x", None]}, {"a": [1, "x", None]})
    assert not matches({"a": 1, "b": 2}, {"a": 1})
    assert matches(9, 9.0) and not matches(1, True) and not matches(0, False)
    assert not matches([1, 2], [1]) and not matches(1, 1.5) and not matches("1", 1)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_links_in_the_guide_resolve():
    """Relative links name files that exist and anchors that their headings make."""
    text = GUIDE.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        file = (GUIDE.parent / path).resolve() if path else GUIDE
        assert file.is_file(), f"link to a missing file: {target}"
        if anchor:
            content = file.read_text(encoding="utf-8")
            slugs = {_slug(m.group("text")) for m in HEADING.finditer(content)}
            assert anchor in slugs, f"link to a missing anchor: {target}"


def test_parser_refuses_an_example_without_expectations():
    text = '# T\n\n```json example name=a\n{"steps": []}\n```\n\nprose\n'
    with pytest.raises(AssertionError, match="no expected block"):
        parse_guide(text)
