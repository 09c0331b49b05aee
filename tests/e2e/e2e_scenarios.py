"""What each example bundle does when run, and one routine that checks it through any surface.

A *surface* is the service functions, the HTTP API or the CLI: each implements :class:`Surface`,
and :func:`check_scenario` drives it the same way (import -> publish the draft as version 2 ->
trigger -> the run ended as expected), so the three end-to-end tests cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from unittest.mock import ANY

from algaflow.registry import Registry, default_registry, load_schema_dir
from algaflow.testing.standins import directory_plugin

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BUNDLES = EXAMPLES / "bundles"
PAYLOADS = EXAMPLES / "payloads"
SCHEMAS = EXAMPLES / "schemas"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class Send:
    """One trigger: the event ``event``, or a manual start of the workflow with key ``start``."""

    payload: str
    event: str | None = None
    start: str | None = None

    def payload_value(self) -> Any:
        return json.loads((PAYLOADS / self.payload).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Scenario:
    """Sends in order; the run of ``run_of`` then ends SUCCEEDED with ``vars`` and ``steps``."""

    id: str
    bundle: str
    sends: tuple[Send, ...]
    run_of: str
    vars: dict[str, Any]
    steps: tuple[str, ...]
    child_runs: int = 0

    @property
    def path(self) -> Path:
        return BUNDLES / self.bundle

    def workflow_keys(self) -> list[str]:
        return [w["key"] for w in json.loads(self.path.read_bytes())["workflows"]]


def _root(*indexes: int | str) -> tuple[str, ...]:
    return tuple(i if isinstance(i, str) else f"root.steps[{i}]" for i in indexes)


_ORDER_LINES = {"lines": ["tea x2", "cake x1"], "totalCents": 1100, "__forEach": {}}
_ORDER_HEAD = _root(0, 1, "root.steps[1].body.steps[0]", "root.steps[1].body.steps[0]", 2)

SCENARIOS: list[Scenario] = [
    Scenario(
        id="hello",
        bundle="hello.json",
        sends=(Send("hello.json", event="GREETING_REQUESTED"),),
        run_of="examples.hello",
        vars={"greeting": {"text": "Hello, Ada!"}},
        steps=_root(0, 1, 2),
    ),
    Scenario(
        id="text-pipeline",
        bundle="text-pipeline.json",
        sends=(Send("text-pipeline.json", start="examples.text-pipeline"),),
        run_of="examples.text-pipeline",
        vars={
            "trimmed": {"text": "Hello, World! Hello algaflow."},
            "lower": {"text": "hello, world! hello algaflow."},
            "clean": {"text": "hello world hello algaflow", "replacementCount": 3},
            "words": {"items": ["hello", "world", "hello", "algaflow"]},
            "slug": {"text": "hello-world-hello-algaflow"},
            "wordCount": 4,
            "summary": "4 words: hello-world-hello-algaflow",
        },
        steps=_root(0, 1, 2, 3, 4, 5, 6),
    ),
    Scenario(
        id="order-total",
        bundle="order-total.json",
        sends=(Send("order-total.json", start="examples.order-total"),),
        run_of="examples.order-total",
        vars={
            **_ORDER_LINES,
            "coupon": {"type": "object", "value": {"percentOff": 10}},
            "discountCents": 110,
            "grandTotalCents": 990,
        },
        steps=_ORDER_HEAD + _root("root.steps[2].try.steps[0]", "root.steps[2].try.steps[1]", 3, 4),
    ),
    Scenario(
        id="order-total-bad-coupon",
        bundle="order-total.json",
        sends=(Send("order-total-bad-coupon.json", start="examples.order-total"),),
        run_of="examples.order-total",
        vars={
            **_ORDER_LINES,
            "couponError": {
                "category": "ActionError",
                "code": "INTERNAL_ERROR",
                "message": ANY,
                "nodePath": "root.steps[2].try.steps[0]",
                "at": ANY,
            },
            "couponProblem": "ActionError",
            "discountCents": 0,
            "grandTotalCents": 1100,
        },
        steps=_ORDER_HEAD
        + _root("root.steps[2].try.steps[0]", "root.steps[2].catch.steps[0]", 3, 4),
    ),
    Scenario(
        id="approval-wait",
        bundle="approval-wait.json",
        sends=(
            Send("approval-requested.json", event="INVOICE_APPROVAL_REQUESTED"),
            Send("approval-decided.json", event="INVOICE_APPROVAL_DECIDED"),
        ),
        run_of="examples.approval-wait",
        vars={
            "event": {
                "invoiceId": "inv-1001",
                "decision": "approved",
                "approver": "grace",
                # the envelope algaflow fills in, as Alga does
                "tenantId": ANY,
                "occurredAt": ANY,
                "actorType": "SYSTEM",
            },
            "eventName": "INVOICE_APPROVAL_DECIDED",
            "decision": "approved",
            "decidedBy": "grace",
            "approval": {
                "object": {"invoiceId": "inv-1001", "amountCents": 4200, "approvedBy": "grace"}
            },
            "summary": "inv-1001 approved by grace",
        },
        steps=_root(0, 1, 2, "root.steps[2].then.steps[0]", "root.steps[2].then.steps[1]", 3),
    ),
    Scenario(
        id="parent-child",
        bundle="parent-child.json",
        sends=(Send("parent-child.json", start="examples.parent-child"),),
        run_of="examples.parent-child",
        vars={"shouted": "HELLO!", "childState": "SHOUTED", "answer": "child said: HELLO!"},
        steps=_root(0, 1, 2),
        child_runs=1,
    ),
    Scenario(
        id="notify-user",
        bundle="notify-user.json",
        sends=(Send("notify-user.json", start="examples.notify-user"),),
        run_of="examples.notify-user",
        vars={
            "notice": {"userId": "ada", "message": "Your report is ready", "authenticated": False}
        },
        steps=_root(0, 1),
    ),
]
SCENARIO_IDS = [s.id for s in SCENARIOS]


def scenario(scenario_id: str) -> Scenario:
    return next(s for s in SCENARIOS if s.id == scenario_id)


class Surface(Protocol):
    """The few operations the walkthrough needs, on one tenant of one instance."""

    def import_bundle(self, data: bytes) -> dict[str, Any]: ...
    def publish(self, key: str) -> int: ...
    def send(self, send: Send) -> None: ...
    def runs(self, key: str) -> list[dict[str, Any]]: ...
    def run(self, run_id: str) -> dict[str, Any]: ...
    def export(self, keys: list[str]) -> bytes: ...


@dataclass
class Outcome:
    run: dict[str, Any]
    children: list[dict[str, Any]] = field(default_factory=list)


def check_scenario(
    surface: Surface, item: Scenario, *, publish: bool = True, version: int = 2
) -> Outcome:
    """Import the bundle and publish every workflow's draft as version 2, then trigger and check
    the run. With ``publish=False`` the workflows are already there and run at ``version``."""
    if publish:
        summary = surface.import_bundle(item.path.read_bytes())
        assert [w["key"] for w in summary["workflows"]] == item.workflow_keys()
        for key in item.workflow_keys():
            assert surface.publish(key) == version, f"{key}: the draft publishes as {version}"
    for index, send in enumerate(item.sends):
        surface.send(send)
        runs = surface.runs(item.run_of)
        assert len(runs) == 1, runs
        if index < len(item.sends) - 1:
            assert runs[0]["status"] not in TERMINAL, "the run waits for the next event"
    run = surface.run(runs[0]["runId"])
    assert run["status"] == "SUCCEEDED", run["error"]
    assert run["workflowVersion"] == version
    assert run["vars"] == item.vars
    assert tuple(s["stepPath"] for s in run["steps"]) == item.steps
    assert {s["status"] for s in run["steps"]} <= {"SUCCEEDED", "FAILED"}
    children = [r for r in _all_runs(surface, item) if r.get("parentRunId") == run["runId"]]
    assert len(children) == item.child_runs
    assert all(c["status"] == "SUCCEEDED" for c in children)
    return Outcome(run, children)


def _all_runs(surface: Surface, item: Scenario) -> list[dict[str, Any]]:
    return [r for key in item.workflow_keys() for r in surface.runs(key)]


#: Members that differ between two instances' runs: error timestamps and an event's envelope.
_PER_INSTANCE = {"at", "tenantId", "occurredAt"}


def without_at(value: Any) -> Any:
    """``value`` minus every member of :data:`_PER_INSTANCE`, to compare two runs' results."""
    if isinstance(value, dict):
        return {k: without_at(v) for k, v in value.items() if k not in _PER_INSTANCE}
    if isinstance(value, list):
        return [without_at(v) for v in value]
    return value


#: The stand-in user directory of the examples' instance: ``notify-user.json`` names ``ada``.
EXAMPLE_USERS = {"*": ["ada", "grace"]}


def examples_registry() -> Registry:
    """A bare instance's registry plus the examples' schema folder, and the stand-in user
    directory that ``notify-user.json`` needs (its only plugin)."""
    registry = default_registry()
    load_schema_dir(registry, SCHEMAS)
    directory_plugin(EXAMPLE_USERS)(registry)
    return registry


def same_but_exported_at(first: bytes, second: bytes) -> bool:
    """Byte equality once the ``exportedAt`` line is blanked (canonical form has it on one line)."""

    def blank(data: bytes) -> list[bytes]:
        lines = data.split(b"\n")
        return [b"" if line.startswith(b'  "exportedAt": ') else line for line in lines]

    return blank(first) == blank(second)
