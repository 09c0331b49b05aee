"""Bundle use cases over a unit of work, and the pure planning they build on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.bundle.bundle_factory import (
    bundle,
    create_published,
    definition,
    row_counts,
    workflow,
)

from algaflow.bundle import importer
from algaflow.bundle.canonical import loads_json
from algaflow.kernel.errors import AlgaflowError
from algaflow.services import UnitOfWork
from algaflow.services import bundles as service

SOURCE = "11111111-1111-4111-8111-111111111111"


def test_import_commits_before_it_answers_and_a_dry_run_writes_nothing(engine, tenant, registry):
    uow = UnitOfWork(engine)
    data = bundle(workflow("svc.one", definition(workflow_id=SOURCE)))
    dry = service.import_bundle(uow, tenant, data, registry=registry, dry_run=True)
    assert row_counts(engine) == (0, 0)
    summary = service.import_bundle(uow, tenant, data, registry=registry)
    assert row_counts(engine) == (1, 1)  # read on a new connection: committed
    assert summary["workflows"] == dry["workflows"]
    assert (summary["dryRun"], dry["dryRun"]) == (False, True)
    assert summary["workflows"][0]["workflowId"] == SOURCE


def test_stream_export_raises_before_any_piece_and_returns_its_connection(engine, tenant, registry):
    with engine.begin() as conn:
        create_published(conn, tenant, registry, "svc.one", definition())
    uow = UnitOfWork(engine)
    with pytest.raises(AlgaflowError) as err:
        service.stream_export(uow, tenant, keys=["svc.one", "svc.missing"])
    assert err.value.code == "WORKFLOW_NOT_FOUND"
    assert engine.pool.checkedout() == 0
    pieces = service.stream_export(uow, tenant, all=True, exported_at="latest-change")
    assert engine.pool.checkedout() == 1  # held until the pieces are consumed
    streamed = b"".join(pieces)
    assert engine.pool.checkedout() == 0
    whole = service.export_bundle_bytes(uow, tenant, all=True, exported_at="latest-change")
    assert streamed == whole
    value = service.export_bundle(uow, tenant, all=True, exported_at="latest-change")
    assert loads_json(whole) == value


def test_the_bundle_part_loads_no_database_code():
    code = (
        "import sys, algaflow.bundle.importer, algaflow.bundle.export\n"
        "import algaflow.definitions.publish\n"
        "print([m for m in sys.modules if m == 'sqlalchemy' or m.startswith('algaflow.store')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


uuids = st.uuids(version=4).map(str)


@given(
    entries=st.lists(
        st.tuples(st.booleans(), st.sampled_from(["own", "taken", "shared", "none", "bad"])),
        min_size=1,
        max_size=8,
    ),
    own=st.lists(uuids, min_size=8, max_size=8, unique=True),
    existing_ids=st.lists(uuids, min_size=8, max_size=8, unique=True),
)
def test_targets_keep_free_source_ids_reuse_existing_ones_and_never_collide(
    entries, own, existing_ids
):
    shared, taken = "22222222-2222-4222-8222-222222222222", own[-1]
    workflows, existing = [], {}
    for i, (exists, kind) in enumerate(entries):
        source = {"own": own[i], "taken": taken, "shared": shared, "none": None, "bad": "x"}[kind]
        key = f"k.{i}"
        workflows.append({"key": key, "draft": {"definition": {"id": source}}})
        if exists:
            existing[key] = existing_ids[i]
    sources = importer.Sources.of(workflows)
    targets = importer.choose_targets(workflows, sources, existing, {taken})
    assert len(set(targets)) == len(targets)
    for w, source, target in zip(workflows, sources.ids, targets, strict=True):
        if w["key"] in existing:
            assert target == existing[w["key"]]
        elif source in sources.candidates() and source != taken:
            assert target == source
        else:
            assert target not in {source, taken, *existing.values()}
    assert (shared in sources.ambiguous) == (sources.ids.count(shared) > 1)
