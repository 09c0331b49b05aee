"""Alga's own bundles (read in place from ../shared/corpus): refused on a bare instance, imported
once stand-ins are registered, exported canonically, and stable under a forced re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.bundle.bundle_factory import (
    import_into,
    normalise_exported_at,
    register_stand_ins,
    row_counts,
)

from algaflow.bundle.canonical import dumps_canonical, loads_json
from algaflow.bundle.errors import BundleError
from algaflow.registry import default_registry
from algaflow.services.bundles import export_bundle_bytes_on
from algaflow.store.tenants import create_tenant

SCHEMA_INVALID = "workflow-data-store-task-mirror.v1.json"


def _check_bundle(engine, path: Path) -> None:
    with engine.begin() as conn:
        tenant = create_tenant(conn, path.name)["id"]
    original = loads_json(path.read_bytes())
    registry = default_registry()
    before = row_counts(engine)
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, original, registry)
    assert row_counts(engine) == before
    if path.name == SCHEMA_INVALID:
        assert caught.value.code == "SCHEMA_VALIDATION_FAILED"
        return
    assert caught.value.code == "MISSING_DEPENDENCIES"

    register_stand_ins(registry, caught.value.details)
    summary = import_into(engine, tenant, original, registry)
    keys = [w["key"] for w in original["workflows"]]
    assert [w["key"] for w in summary["workflows"]] == keys
    with engine.connect() as conn:
        first = export_bundle_bytes_on(conn, tenant, keys=keys)
    text = first.decode("utf-8")
    assert text == dumps_canonical(loads_json(text))
    by_key = {w["key"]: w for w in original["workflows"]}
    for entry in loads_json(first)["workflows"]:
        source = by_key[entry["key"]]
        assert entry["metadata"] == {**source["metadata"], "isSystem": False}
        versions = [v["version"] for v in source["publishedVersions"]]
        assert [v["version"] for v in entry["publishedVersions"]] == sorted(versions)

    import_into(engine, tenant, first, registry, force=True)
    with engine.connect() as conn:
        second = export_bundle_bytes_on(conn, tenant, keys=keys)
    assert normalise_exported_at(second) == normalise_exported_at(first)


def test_every_corpus_bundle_behaves_as_its_readme_says(engine, corpus_dir: Path):
    paths = sorted(corpus_dir.glob("*.json"))
    assert len(paths) >= 45
    failures = []
    for path in paths:
        try:
            _check_bundle(engine, path)
        except AssertionError as exc:  # report every bundle that misbehaves, not just the first
            failures.append(f"{path.name}: {exc}")
    assert not failures, "\n".join(failures)
