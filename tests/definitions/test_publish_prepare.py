"""Publish's pure part: the version it chooses and the candidate it validates, with no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from algaflow.definitions import codes
from algaflow.definitions.publish import next_version, prepare_publish
from algaflow.registry import default_registry

WORKFLOW_ID = "33333333-3333-4333-8333-333333333333"


@given(
    wanted=st.none() | st.integers(min_value=1, max_value=2**31 - 1),
    latest=st.none() | st.integers(min_value=1, max_value=2**31 - 2),
)
def test_the_next_version_skips_numbers_but_never_reuses_one(wanted, latest):
    chosen = next_version(wanted, latest)
    assert chosen > (latest or 0)
    if wanted is None:
        assert chosen == (latest or 0) + 1
    else:
        assert chosen >= wanted
        assert chosen in (wanted, (latest or 0) + 1)


def _draft(**top):
    return {
        "id": "elsewhere",
        "version": 1,
        "name": "Demo",
        "payloadSchemaRef": "payload.Empty.v1",
        "steps": [{"id": "done", "type": "control.return"}],
        **top,
    }


def test_the_candidate_is_a_retargeted_copy_without_time_triggers():
    draft = _draft(trigger={"type": "schedule", "cron": "* * * * *"})
    prepared = prepare_publish(WORKFLOW_ID, draft, 7, default_registry())
    assert prepared.ok, prepared.errors
    assert prepared.definition["id"] == WORKFLOW_ID and prepared.definition["version"] == 7
    assert "trigger" not in prepared.definition
    assert draft["id"] == "elsewhere" and "trigger" in draft  # the source is left alone
    assert prepared.outcome() == {
        "ok": True,
        "publishedVersion": 7,
        "errors": [],
        "warnings": prepared.warnings,
    }


def test_inferred_mode_without_an_event_trigger_is_an_error_result():
    prepared = prepare_publish(
        WORKFLOW_ID, _draft(), 1, default_registry(), payload_schema_mode="inferred"
    )
    outcome = prepared.outcome()
    assert outcome["ok"] is False and "publishedVersion" not in outcome
    assert [e["code"] for e in outcome["errors"]] == [
        codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER
    ]
