"""Request bodies cannot freeze the server: the depth guard is linear and never serves strangers.

A body of escaped quotes (``"\\"\\"\\"…``) once made the guard's string regex backtrack
quadratically on the event loop, before authentication, on any route.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.api.health_probe import health_probe

from algaflow.kernel.jsvalues import json_depth, value_depth

HOSTILE = b'"' + b'\\"' * 450_000  # 900 KB, under the test server's 1 MB body limit
HEALTHY_BOUND_S = 1.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}\n'),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3), children, max_size=4)
    ),
    max_leaves=40,
)


@given(json_values)
def test_depth_of_text_is_depth_of_value(value):
    assert json_depth(json.dumps(value).encode()) == value_depth(value)


@given(json_values, st.integers(1, 9))
def test_depth_is_the_same_whatever_the_chunks(value, chunk):
    """The text is read a chunk at a time: strings and escapes that straddle chunks still count."""
    from algaflow.kernel import jsvalues

    text = json.dumps(value).encode()
    whole = json_depth(text)
    saved = jsvalues._CHUNK
    jsvalues._CHUNK = chunk
    try:
        assert json_depth(text) == whole == value_depth(value)
    finally:
        jsvalues._CHUNK = saved


@pytest.mark.parametrize(
    "text,depth",
    [(b"[]", 1), (b'["]]]"]', 1), (b'["\\\\"]', 1), (b'["\\"[["]', 1), (b"[[[]]][]", 3)],
)
def test_depth_ignores_brackets_in_strings(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("depth", [1, 7, 8, 9, 10, 129, 5_000])
def test_depth_is_exact_past_the_collapsing_passes(depth):
    assert json_depth(b"[" * depth + b"]" * depth + b"[[]]" * 3) == max(depth, 2)


@pytest.mark.parametrize(
    "method,path,auth",
    [
        ("GET", "/healthz", False),
        ("POST", "/api/workflow-definitions", False),
        ("POST", "/api/workflow-definitions", True),
        ("POST", "/api/workflow/events", True),
    ],
)
def test_a_body_of_escaped_quotes_never_freezes_the_server(live_server, api, method, path, auth):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = f"Bearer {api.key}"
    with health_probe(live_server) as probe:
        response = httpx.request(
            method, live_server + path, content=HOSTILE, headers=headers, timeout=30
        )
    assert probe.worst < HEALTHY_BOUND_S, probe.latencies
    if path == "/healthz":
        assert response.status_code == 200
        return
    expected = (400, "INVALID_JSON") if auth else (401, "UNAUTHENTICATED")
    assert (response.status_code, response.json()["code"]) == expected


def test_an_anonymous_deep_body_is_answered_401_not_measured(api):
    deep = b"[" * 10_000 + b"]" * 10_000
    response = api.client.post(
        "/api/workflow-definitions", content=deep, headers={"Authorization": "Bearer nope"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")
    response = api.client.post(
        "/api/workflow-definitions", content=deep, headers={"Authorization": ""}
    )
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")
    assert "x-api-key" in response.json()["error"]
