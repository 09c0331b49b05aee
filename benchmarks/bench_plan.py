"""Import plans on the 1,000-workflow bundle (25 steps, 3 published versions each).

On SQLite and PostgreSQL (skipped with a message when unreachable), with the bundle imported
once, it prints the median of a few runs of:

* a plan of the same bundle (1,000 unchanged) and of the bundle with one workflow's name changed
  (1 to update, 999 unchanged), each against the import of the bundle into an empty tenant;
* the ``force`` import of that one-field change, which writes only the changed workflow;
* the peak traced memory of one plan against the canonical file's size.

Run: ``.venv/bin/python -m benchmarks.bench_plan`` (``--runs N``, ``--workflows N``).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tracemalloc
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.bundle.canonical import dumps_canonical_bytes
from algaflow.registry import default_registry
from algaflow.services import UnitOfWork
from algaflow.services import bundles as service
from algaflow.services.bundle_plans import ImportOptions
from algaflow.store.tables import tenants, workflow_definitions
from algaflow.store.tenants import create_tenant
from benchmarks.bundle_gen import generate_bundle
from benchmarks.databases import each_database
from benchmarks.timing import median_seconds

FORCE = ImportOptions(force=True)


def _tenant(engine: Engine) -> str:
    """Empty the workflow tables and make a fresh tenant; its id."""
    with engine.begin() as conn:
        conn.execute(workflow_definitions.delete())
        conn.execute(tenants.delete())
        return create_tenant(conn, "bench")["id"]


def _measure(engine: Engine, bundle: dict[str, Any], edited: dict[str, Any], runs: int) -> dict:
    registry = default_registry()
    uow = UnitOfWork(engine)
    state: dict[str, str] = {}

    def fresh_import() -> None:
        state["tenant"] = _tenant(engine)
        service.import_bundle(uow, state["tenant"], bundle, registry=registry)

    def plan(value: dict[str, Any]) -> dict[str, Any]:
        return service.plan_bundle(uow, state["tenant"], value, FORCE, registry=registry)

    import_s = median_seconds(fresh_import, runs)
    same_s = median_seconds(lambda: plan(bundle), runs)
    one_s = median_seconds(lambda: plan(edited), runs)
    counts = plan(edited)["counts"]
    assert (counts["update"], counts["unchanged"]) == (1, len(bundle["workflows"]) - 1), counts

    def apply_one() -> None:
        service.import_bundle(uow, state["tenant"], edited, registry=registry, options=FORCE)
        service.import_bundle(uow, state["tenant"], bundle, registry=registry, options=FORCE)

    apply_s = median_seconds(apply_one, runs) / 2
    tracemalloc.start()
    try:
        plan(edited)
        plan_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return {
        "import_s": import_s,
        "same_s": same_s,
        "one_s": one_s,
        "apply_s": apply_s,
        "plan_mib": plan_mib,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workflows", type=int, default=1000)
    args = parser.parse_args([] if argv is None else argv)  # run by benchmarks: defaults

    bundle = generate_bundle(n_workflows=args.workflows, steps=25, versions=3, seed=0)
    edited = copy.deepcopy(bundle)
    edited["workflows"][len(edited["workflows"]) // 2]["metadata"]["name"] = "Renamed"
    size_mib = len(dumps_canonical_bytes(bundle)) / 2**20
    print(
        f"bundle: {args.workflows} workflows, {size_mib:.1f} MiB canonical; "
        f"medians of {args.runs} runs"
    )
    header = (
        f"{'':<12}{'import s':>10}{'plan same':>11}{'plan one':>10}{'apply one':>11}"
        f"{'plan/import':>13}{'plan MiB':>10}{'/ file':>8}"
    )
    print(header)
    for name, engine in each_database("plan"):
        r = _measure(engine, bundle, edited, args.runs)
        print(
            f"{name:<12}{r['import_s']:>10.2f}{r['same_s']:>11.2f}{r['one_s']:>10.2f}"
            f"{r['apply_s']:>11.2f}{r['one_s'] / r['import_s']:>13.2f}{r['plan_mib']:>10.1f}"
            f"{r['plan_mib'] / size_mib:>8.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
