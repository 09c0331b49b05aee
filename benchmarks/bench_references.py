"""Finding and binding environment-specific references on the 1,000-workflow bundle.

Every import now finds its references (and applies bindings when given) before its own checks, so
the figure that matters is that walk next to the checks an import runs anyway
(:func:`~algaflow.bundle.importer.check_bundle`), measured side by side:

* ``find_references`` on the bundle (with a ``$secret`` added to every top-level action call:
  10 distinct names), with the built-in registry;
* ``bind_bundle`` with bindings for every secret found (a substitution per occurrence; only the
  containers on the changed paths are copied);
* ``check_bundle`` (header, schema, definitions, dependencies), and the ratios to it.

Run: ``.venv/bin/python -m benchmarks references`` (``--runs N``, ``--workflows N``).
"""

from __future__ import annotations

import argparse
from typing import Any

from algaflow.bundle.bindings import bind_bundle
from algaflow.bundle.importer import check_bundle
from algaflow.bundle.instance_refs import find_references
from algaflow.registry import default_registry
from benchmarks.bundle_gen import generate_bundle
from benchmarks.timing import median_seconds


def _with_secrets(bundle: dict[str, Any]) -> dict[str, Any]:
    """``bundle`` with ``{"$secret": "TOKEN_<n>"}`` in every top-level action call's mapping."""
    n = 0
    for workflow in bundle["workflows"]:
        definitions = [workflow["draft"]["definition"]]
        definitions += [v["definition"] for v in workflow["publishedVersions"]]
        for definition in definitions:
            for step in definition["steps"]:
                if step.get("type") == "action.call":
                    n += 1
                    step["config"].setdefault("inputMapping", {})["token"] = {
                        "$secret": f"TOKEN_{n % 10}"
                    }
    return bundle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workflows", type=int, default=1000)
    args = parser.parse_args(argv or [])
    bundle = _with_secrets(generate_bundle(args.workflows))
    registry = default_registry()
    found = find_references(bundle, registry)
    bindings: dict[str, dict[str, str]] = {}
    for ref in found:
        bindings.setdefault(ref.kind, {})[ref.value] = f"{ref.value}_BOUND"
    bound = bind_bundle(bundle, bindings, registry)
    print(f"{args.workflows} workflows: {len(found)} references found, "
          f"{len(bound.substitutions)} substitutions")  # fmt: skip

    find_s = median_seconds(lambda: find_references(bundle, registry), args.runs)
    bind_s = median_seconds(lambda: bind_bundle(bundle, bindings, registry), args.runs)
    check_s = median_seconds(lambda: check_bundle(bundle, registry=registry), args.runs)
    print(f"find_references      {find_s * 1000:8.1f} ms  ({find_s / check_s:.2f} x check_bundle)")
    print(f"bind_bundle          {bind_s * 1000:8.1f} ms  ({bind_s / check_s:.2f} x check_bundle)")
    print(f"check_bundle         {check_s * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
