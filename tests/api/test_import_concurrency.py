"""Concurrent imports over real HTTP: ``force`` imports of overlapping bundles all succeed (or say
"retry"), create-only imports of one new key give one success and key conflicts, never a 500 or a
misleading code. PostgreSQL serialises them with per-key locks; SQLite with its write lock."""

from __future__ import annotations

import copy
import threading
from typing import Any

import httpx
from tests.api.bundle_builders import IMPORT, JSON_HEADERS, bundle, encode, workflow

#: Codes a concurrent import may answer besides 200: each tells the client to retry.
RETRY = {"CONCURRENT_IMPORT", "DATABASE_BUSY"}


def _versioned(key: str, versions: list[int], name: str) -> dict[str, Any]:
    entry = workflow(key, name=name)
    source = entry["publishedVersions"][0]
    entry["publishedVersions"] = [
        {
            **copy.deepcopy(source),
            "version": v,
            "definition": {**source["definition"], "version": v},
        }
        for v in versions
    ]
    entry["draft"]["draftVersion"] = max(versions) + 1
    return entry


def _race(base: str, secret: str, bodies: list[bytes], params: dict[str, str]) -> list[Any]:
    """Send every body at once (one client each, released together); return the answers."""
    answers: list[Any] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def send(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            response = client.post(
                base + IMPORT,
                content=bodies[i],
                params=params,
                headers={**JSON_HEADERS, "Authorization": f"Bearer {secret}"},
            )
            answers[i] = (response.status_code, response.json())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_force_imports_of_overlapping_bundles(api, live_server):
    keys = ["race.a", "race.b", "race.c", "race.d"]
    bodies = []
    for i in range(6):  # each bundle overlaps the next in two keys, in different orders
        chosen = [keys[(i + j) % 4] for j in range(3)][:: 1 if i % 2 else -1]
        entries = [_versioned(k, [1, 2, 3][: 1 + (i % 3)], f"round {i}") for k in chosen]
        bodies.append(encode(bundle(*entries)))
    for _round in range(2):  # first round creates (racing), the second overwrites
        answers = _race(live_server, api.key, bodies, {"force": "true"})
        for status, body in answers:
            assert status == 200 or (status in (409, 503) and body["code"] in RETRY), body
        assert sum(status == 200 for status, _ in answers) >= 1
    listed = api.client.get("/api/workflow-definitions").json()
    rows = listed if isinstance(listed, list) else listed.get("workflows", listed)
    assert sorted(w["key"] for w in rows) == keys
    for row in rows:  # every workflow is whole: one bundle's versions, not a mixture
        versions = api.client.get(f"/api/workflow-definitions/{row['workflowId']}/versions")
        numbers = sorted(v["version"] for v in _items(versions.json()))
        assert numbers in ([1], [1, 2], [1, 2, 3])


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else value.get("versions", [])


def test_create_only_imports_racing_for_one_new_key(api, live_server):
    bodies = [encode(bundle(workflow("race.new", name=f"n{i}"))) for i in range(5)]
    answers = _race(live_server, api.key, bodies, {})
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == 1, answers
    for status, body in answers:
        if status != 200:
            assert (status, body["code"]) == (409, "WORKFLOW_KEY_CONFLICT"), body
            assert body["details"]["workflowKey"] == "race.new"
