"""Bundle import and export on a 1,000-workflow bundle (25 steps, 3 published versions each).

For SQLite (a temporary file) and PostgreSQL (``ALGAFLOW_TEST_POSTGRES_URL`` or the local
``algaflow_bench`` database, created if missing; skipped with a message when unreachable) it
prints the median of a few runs of:

* import time (every check, then the writes, committed) and export time (canonical bytes);
* peak traced memory of one import from the file's bytes (what the server and the local CLI do
  with a body or a file: depth guard, parse, checks, writes), against the file's size; of one
  export as bytes (the CLI) and one streamed export (the HTTP route: pieces consumed, not
  joined) (``tracemalloc``, in separate untimed runs);
* import time / a plain ``executemany`` of the same rows into the two tables: the price of the
  checks and of the planning on top of the writes themselves;
* canonical encoding / ``json.dumps(sort_keys=True, indent=2)`` of the same bundle.

Run: ``.venv/bin/python -m benchmarks.bench_bundle`` (``--runs N``, ``--workflows N``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.api.bodies import parse_bundle_body
from algaflow.bundle.canonical import dumps_canonical, dumps_canonical_bytes
from algaflow.registry import default_registry
from algaflow.services.bundles import export_bundle_bytes_on as export_bundle_bytes
from algaflow.services.bundles import import_bundle_on as import_bundle
from algaflow.services.bundles import iter_export_bundle_bytes_on as iter_export_bundle_bytes
from algaflow.store.tables import tenants, workflow_definition_versions, workflow_definitions
from algaflow.store.tenants import create_tenant
from benchmarks.bundle_gen import generate_bundle
from benchmarks.databases import postgres_database, sqlite_database


def _median(fn: Callable[[], Any], runs: int, setup: Callable[[], Any] = lambda: None) -> float:
    samples = []
    for _ in range(runs):
        setup()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- databases -----------------------------------------------------------------------------------


def _reset(engine: Engine) -> str:
    """Empty the workflow tables and make a fresh tenant; its id."""
    with engine.begin() as conn:
        conn.execute(workflow_definitions.delete())
        conn.execute(tenants.delete())
        return create_tenant(conn, "bench")["id"]


# --- the baseline: the same rows, written with nothing else ---------------------------------------


def _plain_rows(
    bundle: dict[str, Any], tenant_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = datetime.now(UTC)
    definitions, versions = [], []
    for workflow in bundle["workflows"]:
        meta = workflow["metadata"]
        workflow_id = workflow["draft"]["definition"]["id"]
        definitions.append(
            {
                "workflow_id": workflow_id,
                "tenant": tenant_id,
                "key": workflow["key"],
                "name": meta["name"],
                "description": meta["description"],
                "payload_schema_ref": meta["payloadSchemaRef"],
                "payload_schema_mode": meta["payloadSchemaMode"],
                "pinned_payload_schema_ref": meta["pinnedPayloadSchemaRef"],
                "trigger": meta["trigger"],
                "draft_definition": workflow["draft"]["definition"],
                "draft_version": workflow["draft"]["draftVersion"],
                "status": "published",
                "is_system": False,
                "is_visible": meta["isVisible"],
                "is_paused": meta["isPaused"],
                "concurrency_limit": meta["concurrencyLimit"],
                "auto_pause_on_failure": meta["autoPauseOnFailure"],
                "failure_rate_threshold": Decimal(meta["failureRateThreshold"]),
                "failure_rate_min_runs": meta["failureRateMinRuns"],
                "retention_policy_override": meta["retentionPolicyOverride"],
                "created_at": now,
                "updated_at": now,
            }
        )
        for version in workflow["publishedVersions"]:
            versions.append(
                {
                    "version_id": str(uuid.uuid4()),
                    "tenant": tenant_id,
                    "workflow_id": workflow_id,
                    "version": version["version"],
                    "definition_json": version["definition"],
                    "payload_schema_json": version["payloadSchemaJson"],
                    "published_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return definitions, versions


def _bulk_insert(engine: Engine, rows: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        conn.execute(workflow_definitions.insert(), rows[0])
        conn.execute(workflow_definition_versions.insert(), rows[1])


# --- one backend ---------------------------------------------------------------------------------


def _measure(engine: Engine, bundle: dict[str, Any], data: bytes, runs: int) -> dict[str, float]:
    registry = default_registry()
    state: dict[str, Any] = {}

    def fresh() -> None:
        state["tenant"] = _reset(engine)

    def run_import() -> None:
        with engine.begin() as conn:
            import_bundle(conn, state["tenant"], bundle, registry=registry)

    def run_import_bytes() -> None:  # the body or the file is held already: not counted
        with engine.begin() as conn:
            import_bundle(conn, state["tenant"], parse_bundle_body(data), registry=registry)

    def run_export() -> bytes:
        with engine.connect() as conn:
            return export_bundle_bytes(conn, state["tenant"], all=True)

    def run_stream() -> None:  # what the HTTP route does: each piece is sent, then dropped
        with engine.connect() as conn:
            for _piece in iter_export_bundle_bytes(conn, state["tenant"], all=True):
                pass

    def baseline_setup() -> None:
        fresh()
        state["rows"] = _plain_rows(bundle, state["tenant"])

    import_s = _median(run_import, runs, fresh)
    export_s = _median(run_export, runs)  # the last import's rows
    assert len(json.loads(run_export())["workflows"]) == len(bundle["workflows"])
    fresh()
    import_mib = _peak_mib(run_import_bytes)
    export_mib = _peak_mib(run_export)
    stream_mib = _peak_mib(run_stream)
    bulk_s = _median(lambda: _bulk_insert(engine, state["rows"]), runs, baseline_setup)
    return {
        "import_s": import_s,
        "export_s": export_s,
        "import_mib": import_mib,
        "export_mib": export_mib,
        "stream_mib": stream_mib,
        "bulk_s": bulk_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workflows", type=int, default=1000)
    args = parser.parse_args(argv)

    bundle = generate_bundle(n_workflows=args.workflows, steps=25, versions=3, seed=0)
    data = dumps_canonical_bytes(bundle)
    size = len(data) / 1e6
    print(
        f"bundle: {args.workflows} workflows x (draft + 3 published versions) x 25 steps, "
        f"{size:.1f} MB canonical; medians of {args.runs} runs"
    )
    canonical_s = _median(lambda: dumps_canonical(bundle), args.runs)
    stdlib_s = _median(lambda: json.dumps(bundle, sort_keys=True, indent=2), args.runs)

    results: dict[str, dict[str, float]] = {}
    with sqlite_database() as engine:
        results["SQLite"] = _measure(engine, bundle, data, args.runs)
    with postgres_database("bundle") as engine:
        if engine is not None:
            results["PostgreSQL"] = _measure(engine, bundle, data, args.runs)

    file_mib = len(data) / 2**20
    header = f"{'':<12}{'import s':>10}{'export s':>10}{'import MiB':>12}{'/ file':>8}"
    print(header + f"{'export MiB':>12}{'stream MiB':>12}{'bulk insert s':>15}{'import/bulk':>13}")
    for name, r in results.items():
        print(
            f"{name:<12}{r['import_s']:>10.2f}{r['export_s']:>10.2f}{r['import_mib']:>12.1f}"
            f"{r['import_mib'] / file_mib:>7.2f}x{r['export_mib']:>12.1f}{r['stream_mib']:>12.1f}"
            f"{r['bulk_s']:>15.2f}{r['import_s'] / r['bulk_s']:>12.2f}x"
        )
    print(
        f"canonical encoding {canonical_s * 1000:.0f} ms / json.dumps(sort_keys=True, indent=2) "
        f"{stdlib_s * 1000:.0f} ms = {canonical_s / stdlib_s:.2f}x"
    )


if __name__ == "__main__":
    main()
