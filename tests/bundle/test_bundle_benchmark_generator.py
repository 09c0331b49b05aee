"""The benchmark generator makes valid, deterministic bundles (the import benchmark uses it)."""

from __future__ import annotations

from benchmarks.bundle_gen import generate_bundle

from algaflow.bundle.canonical import dumps_canonical
from algaflow.bundle.dependencies import derive_dependencies
from algaflow.bundle.format import validate_bundle


def test_generated_bundle_is_valid_and_deterministic() -> None:
    bundle = generate_bundle(n_workflows=4, steps=8, versions=2, seed=3)
    validate_bundle(bundle)
    assert [w["key"] for w in bundle["workflows"]] == [f"bench.wf-{n:04d}" for n in range(1, 5)]
    for workflow in bundle["workflows"]:
        assert [v["version"] for v in workflow["publishedVersions"]] == [1, 2]
        assert len(workflow["draft"]["definition"]["steps"]) == 8
        assert workflow["dependencies"] == derive_dependencies(workflow)
        assert set(workflow["dependencies"]["nodeTypes"]) <= {
            "state.set",
            "transform.assign",
            "action.call",
        }
    same = generate_bundle(n_workflows=4, steps=8, versions=2, seed=3)
    assert dumps_canonical(same) == dumps_canonical(bundle)
    assert dumps_canonical(generate_bundle(4, 8, 2, seed=4)) != dumps_canonical(bundle)
