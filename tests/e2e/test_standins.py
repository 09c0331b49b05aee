"""The stand-in plugin used for Alga's bundles: what it registers, and what it leaves alone."""

from __future__ import annotations

import os

import pytest
from tests.e2e.e2e_scenarios import BUNDLES

from algaflow.registry import default_registry, load_plugin
from algaflow.testing import standins

HELLO = BUNDLES / "hello.json"


def test_plugin_registers_only_what_is_missing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(standins.ENV_VAR, os.pathsep.join([str(HELLO), str(BUNDLES)]))
    registry = default_registry()
    before = set(registry.actions.ids())
    load_plugin(registry, "algaflow.testing.standins:register")
    # transform.* actions are built in, not stood in; notify.user (notify-user.json) is not
    assert set(registry.actions.ids()) - before == {"notify.user"}
    assert registry.schemas.has("payload.Greeting.v1")
    assert registry.schemas.validate("payload.Greeting.v1", {"tenantId": "t"}) != []
    ok = {"tenantId": "t", "occurredAt": standins.OCCURRED_AT, "extra": 1}
    assert registry.schemas.validate("payload.Greeting.v1", ok) == []


def test_stand_in_actions_answer_with_canned_outputs():
    bundle = {"workflows": [{"dependencies": {"actions": [
        {"actionId": "projects.create_task", "version": 1},
        {"actionId": "tickets.add_comment", "version": 2},
    ], "schemaRefs": []}}]}  # fmt: skip
    registry = default_registry()
    added = standins.register_for(registry, [bundle])
    assert added == {"actions": ["projects.create_task@1", "tickets.add_comment@2"],
                     "schemaRefs": []}  # fmt: skip
    create = registry.actions.get("projects.create_task", 1)
    assert create is not None
    assert create.handler({}, None) == standins.CANNED_OUTPUTS["projects.create_task"]
    assert standins.register_for(registry, [bundle]) == {"actions": [], "schemaRefs": []}


@pytest.mark.parametrize(
    "bundle",
    [None, [], {"workflows": None}, {"workflows": [1, {"dependencies": "x"}]},
     {"workflows": [{"dependencies": {"actions": [{"actionId": ""}], "schemaRefs": [3]}}]}],
)  # fmt: skip
def test_malformed_bundles_register_nothing(bundle):
    assert standins.register_for(default_registry(), [bundle]) == {
        "actions": [],
        "schemaRefs": [],
    }


def test_sample_payload_fills_every_path_the_definitions_read():
    bundle = {"steps": [{"$expr": "payload.ticketId & payload.contact.email & payload.a.b.c"}]}
    payload = standins.sample_payload(bundle, "tenant-1")
    assert payload == {
        "tenantId": "tenant-1",
        "occurredAt": standins.OCCURRED_AT,
        "ticketId": "11111111-1111-4111-8111-111111111111",
        "contact": {"email": "someone@example.com"},
        "a": {"b": {"c": "c-1"}},
    }
