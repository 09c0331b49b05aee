"""Hostile expressions and regexes sent over real HTTP must not freeze the server (both databases).

A second client polls ``/healthz`` throughout; every check must answer quickly while the hostile
request runs, and the request must end with the coded error (a run started by the request ends
FAILED with the code in its error).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.api.health_probe import health_probe

HEALTH_BOUND_S = 1.0
# (expression, code, message) -- the message is what an event's error list carries.
HOSTILE_EXPRESSIONS = [
    (  # the probe's expression: the array cap stops it at once, deterministically
        "$len([1..999999].[1..999999])",
        "EXPRESSION_LIMIT_EXCEEDED",
        "An array would exceed the size limit of 100000 items",
    ),
    (  # few steps that each build a whole array: the wall-clock backstop stops it
        "$len([1..99999].[1..99999])",
        "EXPRESSION_TIMEOUT",
        "Expression evaluation exceeded 250ms",
    ),
    (  # slow Python work behind single engine steps
        "$len([1..25000].$toString([1..99999]))",
        "EXPRESSION_TIMEOUT",
        "Expression evaluation exceeded 250ms",
    ),
]
REDOS_TEXT = "a" * 28 + "!"


def _publish(http: httpx.Client, key: str, steps: list[dict[str, Any]], **extra: Any) -> str:
    definition = {"version": 1, "name": key, "payloadSchemaRef": "payload.Empty.v1", "steps": steps}
    created = http.post(
        "/api/workflow-definitions", json={"key": key, "definition": definition, **extra}
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["workflowId"]
    published = http.post(f"/api/workflow-definitions/{workflow_id}/1/publish", json={})
    assert published.status_code == 200 and published.json()["ok"] is True, published.text
    return workflow_id


def _run_under_probe(base: str, send: Any) -> tuple[httpx.Response, float, list[float]]:
    with health_probe(base, interval=0.02) as probe:
        time.sleep(0.1)  # a few checks before the hostile request
        started = time.perf_counter()
        response = send()
        elapsed = time.perf_counter() - started
        time.sleep(0.1)
    return response, elapsed, probe.latencies


def _start_run_under_probe(
    api: Any, base: str, key: str, steps: list[dict[str, Any]]
) -> tuple[httpx.Response, float]:
    """Publish ``steps`` as workflow ``key``, then start a run while ``/healthz`` is polled; the
    server must stay responsive. Returns the start's response and how long it took."""
    with httpx.Client(base_url=base, headers=api.headers(), timeout=30) as http:
        workflow_id = _publish(http, key, steps)
        response, elapsed, latencies = _run_under_probe(
            base,
            lambda: http.post(
                "/api/workflow-runs", json={"workflowId": workflow_id, "payload": {}}
            ),
        )
    _assert_responsive(latencies)
    return response, elapsed


def _assert_responsive(latencies: list[float]) -> None:
    assert len(latencies) >= 5, latencies
    assert max(latencies) < HEALTH_BOUND_S, latencies


@pytest.mark.parametrize(("source", "code", "message"), HOSTILE_EXPRESSIONS)
def test_a_step_expression_fails_the_run_without_freezing(api, live_server, source, code, message):
    steps = [{"id": "boom", "type": "transform.assign",
              "config": {"assign": {"vars.x": {"$expr": source}}}}]  # fmt: skip
    response, elapsed = _start_run_under_probe(api, live_server, "hostile.step", steps)
    assert elapsed < 5  # was 5-24 s, with /healthz frozen for as long
    run = response.json()
    assert response.status_code == 201 and run["status"] == "FAILED", run
    assert run["error"]["code"] == code and run["error"]["message"] == message
    assert run["error"]["category"] == "ExpressionError"


@pytest.mark.parametrize(("source", "code", "message"), HOSTILE_EXPRESSIONS)
def test_an_event_payload_mapping_fails_without_freezing(api, live_server, source, code, message):
    trigger = {"type": "event", "eventName": "HOSTILE_EVENT",
               "payloadMapping": {"x": {"$expr": source}}}  # fmt: skip
    with httpx.Client(base_url=live_server, headers=api.headers(), timeout=30) as http:
        _publish(http, "hostile.trigger", [], trigger=trigger)
        response, elapsed, latencies = _run_under_probe(
            live_server,
            lambda: http.post(
                "/api/workflow/events?wait=true", json={"eventName": "HOSTILE_EVENT", "payload": {}}
            ),
        )
    _assert_responsive(latencies)
    assert elapsed < 5
    body = response.json()
    assert response.status_code == 200, body
    assert body["startedRuns"] == [] and body["errors"] == [f"hostile.trigger: {message}"]


def test_a_redos_regex_step_fails_the_run_without_freezing(api, live_server):
    steps = [{"id": "match", "type": "action.call",
              "config": {"actionId": "transform.regex_match", "version": 1,
                         "inputMapping": {"text": REDOS_TEXT, "pattern": "^(a|a)*$"}}}]  # fmt: skip
    response, elapsed = _start_run_under_probe(api, live_server, "hostile.regex", steps)
    assert elapsed < 5  # Python's re needed 21 s on ^(a+)+$, holding the GIL throughout
    run = response.json()
    assert response.status_code == 201 and run["status"] == "FAILED", run
    assert run["error"]["code"] == "REGEX_TIMEOUT"
    assert run["error"]["category"] == "ActionError"
    assert REDOS_TEXT not in run["error"]["message"] and "(a|a)" not in run["error"]["message"]


def test_the_probe_redos_pattern_now_answers_at_once(api, live_server):
    """``^(a+)+$`` on 28 a's and '!' froze the server for 21 s; now the run simply succeeds."""
    steps = [{"id": "match", "type": "action.call",
              "config": {"actionId": "transform.regex_match", "version": 1, "saveAs": "m",
                         "inputMapping": {"text": REDOS_TEXT, "pattern": "^(a+)+$"}}}]  # fmt: skip
    response, elapsed = _start_run_under_probe(api, live_server, "probe.regex", steps)
    assert elapsed < 2
    run = response.json()
    assert response.status_code == 201 and run["status"] == "SUCCEEDED", run
    assert run["vars"]["m"]["matched"] is False
