"""Import progress as JSON lines (``Accept: application/x-ndjson``): one line per workflow
prepared, then the summary or the coded error; the plain answer stays the default."""

from __future__ import annotations

import json

import pytest
from tests.api.bundle_builders import IMPORT, JSON_HEADERS, bundle, encode, rows, workflow

from algaflow.cli.client import ApiClient
from algaflow.kernel.errors import AlgaflowError

NDJSON_HEADERS = {**JSON_HEADERS, "Accept": "application/x-ndjson"}


def _three() -> bytes:
    return encode(bundle(*(workflow(f"test.lines-{n}") for n in range(3))))


def _events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line]


def test_lines_count_every_workflow_then_give_the_summary(api):
    answer = api.client.post(IMPORT, content=_three(), headers=NDJSON_HEADERS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    *progress, last = _events(answer.text)
    assert [p["progress"] for p in progress] == [
        {"step": "import", "done": n, "total": 3} for n in (1, 2, 3)
    ]
    keys = [w["key"] for w in last["result"]["workflows"]]
    assert keys == ["test.lines-0", "test.lines-1", "test.lines-2"]
    assert len(rows(api.engine)) > 0


def test_the_plain_answer_is_still_the_default(api):
    answer = api.client.post(IMPORT, content=_three(), headers=JSON_HEADERS)
    assert answer.headers["content-type"].startswith("application/json")
    assert len(answer.json()["workflows"]) == 3


def test_a_refused_import_ends_with_its_coded_error_and_writes_nothing(api):
    assert api.client.post(IMPORT, content=_three(), headers=JSON_HEADERS).status_code == 200
    before = rows(api.engine)
    answer = api.client.post(IMPORT, content=_three(), headers=NDJSON_HEADERS)
    last = _events(answer.text)[-1]
    assert last["error"]["code"] == "WORKFLOW_KEY_CONFLICT"
    assert last["error"]["status"] == 409
    assert rows(api.engine) == before


def test_an_invalid_body_is_the_last_line_too(api):
    answer = api.client.post(IMPORT, content=b"[1, 2", headers=NDJSON_HEADERS)
    (last,) = _events(answer.text)
    assert last["error"]["code"] == "INVALID_JSON"
    assert last["error"]["status"] == 400


def test_the_client_reads_lines_through_real_http(api, live_server):
    client = ApiClient.for_server(live_server, api.key)
    seen: list[tuple[str, int, int]] = []
    try:
        summary = client.progress_lines(
            "POST", IMPORT, lambda *step: seen.append(step), content=_three(), headers=JSON_HEADERS
        )
        assert seen == [("import", 1, 3), ("import", 2, 3), ("import", 3, 3)]
        assert len(summary["workflows"]) == 3
        with pytest.raises(AlgaflowError) as refused:
            client.progress_lines(
                "POST", IMPORT, lambda *step: None, content=_three(), headers=JSON_HEADERS
            )
        assert refused.value.code == "WORKFLOW_KEY_CONFLICT"
        with pytest.raises(AlgaflowError) as unauthorized:  # refused before any line
            ApiClient.for_server(live_server, "wrong").progress_lines(
                "POST", IMPORT, lambda *step: None, content=_three(), headers=JSON_HEADERS
            )
        assert unauthorized.value.code not in ("SERVER_UNREACHABLE", "HTTP_401")
    finally:
        client.close()


def test_an_export_announces_its_workflow_count_and_the_cli_counts_its_entries(api, live_server):
    from algaflow.cli.bundle import count_workflows

    _ = api.client.post(IMPORT, content=_three(), headers=JSON_HEADERS)
    client = ApiClient.for_server(live_server, api.key)
    seen: list[int] = []
    try:
        with client.streaming("POST", f"{IMPORT[: -len('/import')]}/export", {"all": True}) as r:
            assert r.headers["x-workflow-count"] == "3"
            tiny = (bytes([b]) for piece in r.iter_bytes() for b in piece)  # every split point
            data = b"".join(count_workflows(tiny, seen.append))
    finally:
        client.close()
    assert seen == [1, 2, 3]
    assert len(json.loads(data)["workflows"]) == 3
