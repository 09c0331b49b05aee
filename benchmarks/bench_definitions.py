"""Definition parse and publish-validation speed on the definitions of a 1,000-workflow bundle.

Run: ``.venv/bin/python -m benchmarks.bench_definitions``.
"""

from __future__ import annotations

from algaflow.definitions.model import parse_definition
from algaflow.definitions.validation import validate_definition
from algaflow.registry import default_registry
from benchmarks.bundle_gen import PAYLOAD_SCHEMA_REF, generate_bundle
from benchmarks.timing import median_seconds

RUNS = 5
TARGET_MS = 1.0  # per 25-step definition


def main() -> None:
    bundle = generate_bundle(1000)
    definitions = [
        version["definition"]
        for workflow in bundle["workflows"]
        for version in [workflow["draft"], *workflow["publishedVersions"]]
    ]
    registry = default_registry()
    if not registry.schemas.has(PAYLOAD_SCHEMA_REF):
        registry.schemas.register(PAYLOAD_SCHEMA_REF, {"type": "object"})
    steps = sum(len(d["steps"]) for d in definitions)
    parse = median_seconds(lambda: [parse_definition(d) for d in definitions])
    validate = median_seconds(lambda: [validate_definition(d, registry) for d in definitions])
    print(f"{len(definitions)} definitions, {steps} top-level steps, median of {RUNS} runs")
    print(
        f"parse_definition:    {parse * 1000:8.1f} ms "
        f"({parse / len(definitions) * 1e6:.0f} µs each)"
    )
    each_ms = validate / len(definitions) * 1000
    print(f"validate_definition: {validate * 1000:8.1f} ms ({each_ms * 1000:.0f} µs each)")
    print(f"validate_definition, 25 steps / the 1 ms target: {each_ms / TARGET_MS:.2f}x")


if __name__ == "__main__":
    main()
