"""A bundle moved between tenants with user and secret references: refused, bound, run.

On SQLite and PostgreSQL. Each tenant has its own users (the stand-in directory) and its own
secrets (a stand-in secret source), like two instances.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from tests.bundle.bundle_factory import (
    bundle,
    call_step,
    create_published,
    definition,
    make_registry,
    row_counts,
    workflow,
)

from algaflow.bundle.errors import BundleError
from algaflow.registry import ReferenceKind, Registry
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.runtime.embedded.secrets import SecretNotFound
from algaflow.services.bundle_plans import ImportOptions
from algaflow.services.bundles import export_bundle_bytes, import_bundle, plan_bundle
from algaflow.services.references import ReferenceOptions
from algaflow.services.runs import start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.workflows import get_workflow_by_key
from algaflow.testing.standins import directory_plugin

KEY = "refs.notify"


class Secrets:
    """A stand-in secret source: the names one instance has."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def resolve(self, name: str, run_id: str | None = None) -> str:
        if name not in self.values:
            raise SecretNotFound(name)
        return self.values[name]


def notify_bundle() -> dict[str, Any]:
    step = {
        "id": "notify",
        "type": "action.call",
        "config": {
            "actionId": "notify.user",
            "version": 1,
            "inputMapping": {
                "userId": "u-staging",
                "message": "hi",
                "token": {"$secret": "STAGING_TOKEN"},
            },
            "saveAs": "vars.notice",
        },
    }
    return bundle(workflow(KEY, definition(steps=[step], version=2)))


def registry_for(users: dict[str, list[str]]) -> Registry:
    registry = make_registry()
    directory_plugin(users)(registry)
    return registry


def exported_from_staging(engine: Engine, staging: str, registry: Registry) -> bytes:
    uow = UnitOfWork(engine)
    options = ReferenceOptions(secrets=Secrets(STAGING_TOKEN="staging-secret-value"))
    import_bundle(uow, staging, notify_bundle(), registry=registry, reference_options=options)
    return export_bundle_bytes(uow, staging, keys=[KEY])


@pytest.fixture
def setting(engine: Engine, tenant: str, other_tenant: str) -> tuple[Registry, bytes]:
    registry = registry_for({tenant: ["u-staging"], other_tenant: ["u-prod"]})
    return registry, exported_from_staging(engine, tenant, registry)


PROD = Secrets(PROD_TOKEN="prod-secret-value")


def test_refused_without_bindings_then_imported_with_them_and_runs_on_the_bound_values(
    engine, other_tenant, setting
):
    registry, exported = setting
    uow = UnitOfWork(engine)
    before = row_counts(engine)
    with pytest.raises(BundleError) as caught:
        import_bundle(uow, other_tenant, exported, registry=registry,
                      reference_options=ReferenceOptions(secrets=PROD))  # fmt: skip
    assert caught.value.code == "UNRESOLVED_REFERENCES"
    listed = {(e["version"], e["kind"], e["value"]) for e in caught.value.details["errors"]}
    assert listed == {
        (v, k, value)
        for v in ("draft", 1)
        for k, value in (("user", "u-staging"), ("secret", "STAGING_TOKEN"))
    }
    assert all(e["workflowKey"] == KEY and e["path"] for e in caught.value.details["errors"])
    assert row_counts(engine) == before

    bindings = {"user": {"u-staging": "u-prod"}, "secret": {"STAGING_TOKEN": "PROD_TOKEN"}}
    options = ReferenceOptions(bindings=bindings, secrets=PROD)
    summary = import_bundle(
        uow, other_tenant, exported, registry=registry, reference_options=options
    )
    assert {(s["kind"], s["value"], s["target"]) for s in summary["substitutions"]} == {
        ("user", "u-staging", "u-prod"),
        ("secret", "STAGING_TOKEN", "PROD_TOKEN"),
    }
    assert len(summary["substitutions"]) == 4

    with engine.connect() as conn:
        row = get_workflow_by_key(conn, other_tenant, KEY)
    run = start_run(uow, other_tenant, row["workflow_id"], registry=registry,
                    options=DriverOptions(secret_resolver=PROD))  # fmt: skip
    assert run["status"] == "SUCCEEDED", run
    assert run["vars"]["notice"] == {"userId": "u-prod", "message": "hi", "authenticated": True}


def test_allow_unresolved_imports_with_warnings_but_a_bad_binding_still_refuses(
    engine, other_tenant, setting
):
    registry, exported = setting
    uow = UnitOfWork(engine)
    summary = import_bundle(uow, other_tenant, exported, registry=registry, dry_run=True,
                            reference_options=ReferenceOptions(allow_unresolved=True,
                                                               secrets=PROD))  # fmt: skip
    unresolved = [w for w in summary["warnings"] if w["code"] == "REFERENCE_UNRESOLVED"]
    assert len(unresolved) == 4

    before = row_counts(engine)
    bindings = {"secret": {"STAGING_TOKEN": "MISSING_TOKEN"}, "user": {"nobody": "u-prod"}}
    options = ReferenceOptions(bindings=bindings, allow_unresolved=True, secrets=PROD)
    with pytest.raises(BundleError) as caught:
        import_bundle(uow, other_tenant, exported, registry=registry, reference_options=options)
    assert caught.value.code == "UNRESOLVED_BINDINGS"
    assert {e["value"] for e in caught.value.details["errors"]} == {"MISSING_TOKEN"}
    assert row_counts(engine) == before


def test_kinds_without_a_resolver_are_warnings(engine, tenant):
    registry = make_registry()
    registry.references.register(ReferenceKind("user"))  # no resolver
    directory = make_registry()
    directory_plugin({})(directory)
    registry.actions.register(directory.actions.get("notify.user", 1))  # type: ignore[arg-type]
    options = ReferenceOptions(secrets=Secrets(STAGING_TOKEN="staging-secret-value"))
    summary = import_bundle(UnitOfWork(engine), tenant, notify_bundle(), registry=registry,
                            reference_options=options)  # fmt: skip
    assert [(w["code"], w["kind"], w["values"]) for w in summary["warnings"]] == [
        ("REFERENCE_UNCHECKED", "user", ["u-staging"])
    ]


def test_a_call_target_outside_the_bundle_is_bound_to_the_tenants_workflow(engine, tenant):
    registry = make_registry()
    with engine.begin() as conn:
        target = create_published(conn, tenant, registry, "refs.child", definition())
    foreign = "99999999-9999-4999-8999-999999999999"
    caller = bundle(workflow("refs.caller", definition(
        steps=[call_step("call", foreign)], workflow_id="88888888-8888-4888-8888-888888888888"
    )))  # fmt: skip
    uow = UnitOfWork(engine)
    with pytest.raises(BundleError) as caught:
        import_bundle(uow, tenant, caller, registry=registry)
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"
    options = ReferenceOptions(bindings={"workflow": {foreign: target}})
    summary = import_bundle(uow, tenant, caller, registry=registry, reference_options=options)
    assert [(s["kind"], s["target"]) for s in summary["substitutions"]] == [
        ("workflow", target),
        ("workflow", target),
    ]


def test_the_plan_lists_references_and_substitutions_and_refuses_nothing(
    engine, other_tenant, setting
):
    registry, exported = setting
    uow = UnitOfWork(engine)
    before = row_counts(engine)
    unbound = plan_bundle(uow, other_tenant, exported, ImportOptions(), registry=registry,
                          reference_options=ReferenceOptions(secrets=PROD))  # fmt: skip
    assert {(r["version"], r["kind"], r["value"]) for r in unbound["references"]} == {
        (v, k, value)
        for v in ("draft", 1)
        for k, value in (("user", "u-staging"), ("secret", "STAGING_TOKEN"))
    }
    assert unbound["substitutions"] == []
    assert [w["code"] for w in unbound["referenceWarnings"]] == ["REFERENCE_UNRESOLVED"] * 4
    assert unbound["summary"] == "1 to create, 0 to update, 0 unchanged"

    bindings = {"user": {"u-staging": "u-prod"}, "secret": {"STAGING_TOKEN": "PROD_TOKEN"}}
    options = ReferenceOptions(bindings=bindings, secrets=PROD)
    bound = plan_bundle(
        uow, other_tenant, exported, ImportOptions(), registry=registry, reference_options=options
    )
    assert {(s["kind"], s["value"], s["target"]) for s in bound["substitutions"]} == {
        ("user", "u-staging", "u-prod"),
        ("secret", "STAGING_TOKEN", "PROD_TOKEN"),
    }
    assert {r["value"] for r in bound["references"]} == {"u-prod", "PROD_TOKEN"}
    assert bound["referenceWarnings"] == []
    assert row_counts(engine) == before
