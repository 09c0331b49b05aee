"""Deterministic synthetic bundles for benchmarks: ``generate_bundle(1000)`` is a large export.

Only built-in node types and transform actions are used (``state.set``, ``transform.assign``,
``control.if``, ``action.call`` of ``transform.*@1``, ``control.return``) with the
``payload.Empty.v1`` schema, so the import benchmark can import, publish and run what it generates.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from algaflow.bundle.dependencies import workflow_dependency_summary
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION

PAYLOAD_SCHEMA_REF = "payload.Empty.v1"
EMPTY_PAYLOAD_SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False}


def _expr(source: str) -> dict[str, str]:
    return {"$expr": source}


def _step(rng: random.Random, path: str, depth: int = 0) -> dict[str, Any]:
    kind = rng.choice(
        ["state.set", "assign", "concat", "truncate", "if"]
        if depth == 0
        else ["state.set", "assign", "concat"]
    )
    step_id = f"step-{path}"
    if kind == "state.set":
        return {"id": step_id, "type": "state.set", "config": {"state": f"STATE_{path.upper()}"}}
    if kind == "assign":
        return {
            "id": step_id,
            "type": "transform.assign",
            "config": {
                "assign": {f"vars.v{path}": _expr(f"$string({rng.randint(0, 999)}) & ' → ok'")}
            },
        }
    if kind == "concat":
        return {
            "id": step_id,
            "type": "action.call",
            "config": {
                "actionId": "transform.concat_text",
                "version": 1,
                "inputMapping": {
                    "values": ["a", _expr("$string(vars.n)"), rng.random()],
                    "separator": "-",
                },
                "saveAs": f"vars.text{path}",
            },
        }
    if kind == "truncate":
        return {
            "id": step_id,
            "type": "action.call",
            "config": {
                "actionId": "transform.truncate_text",
                "version": 1,
                "inputMapping": {
                    "text": "Ünïcode text to shorten",
                    "maxLength": rng.randint(3, 12),
                },
                "saveAs": f"vars.short{path}",
            },
        }
    return {
        "id": step_id,
        "type": "control.if",
        "condition": _expr(f"vars.n > {rng.randint(0, 9)}"),
        "then": [_step(rng, f"{path}t", depth + 1)],
        "else": [_step(rng, f"{path}e", depth + 1)],
    }


def _definition(
    rng: random.Random, workflow_id: str, name: str, version: int, steps: int
) -> dict[str, Any]:
    body = [_step(rng, str(i)) for i in range(max(steps - 1, 0))]
    body.append({"id": "done", "type": "control.return"})
    return {
        "id": workflow_id,
        "version": version,
        "name": name,
        "description": f"Synthetic workflow, version {version}.",
        "payloadSchemaRef": PAYLOAD_SCHEMA_REF,
        "steps": body,
    }


def generate_bundle(
    n_workflows: int = 1000, steps: int = 25, versions: int = 3, seed: int = 0
) -> dict[str, Any]:
    """A valid v1 bundle of ``n_workflows`` workflows (keys ``bench.wf-0001``...), each with
    ``versions`` published versions and a draft of ``steps`` top-level steps.

    Same arguments, same bundle (byte for byte once canonical)."""
    rng = random.Random(seed)
    workflows = []
    for n in range(1, n_workflows + 1):
        workflow_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        name = f"Bench workflow {n:04d}"
        published = [_definition(rng, workflow_id, name, v, steps) for v in range(1, versions + 1)]
        draft = _definition(rng, workflow_id, name, versions + 1, steps)
        workflows.append(
            {
                "key": f"bench.wf-{n:04d}",
                "metadata": {
                    "name": name,
                    "description": None,
                    "payloadSchemaRef": PAYLOAD_SCHEMA_REF,
                    "payloadSchemaMode": "pinned",
                    "pinnedPayloadSchemaRef": PAYLOAD_SCHEMA_REF,
                    "trigger": None,
                    "isSystem": False,
                    "isVisible": True,
                    "isPaused": False,
                    "concurrencyLimit": None,
                    "autoPauseOnFailure": False,
                    "failureRateThreshold": "0.50",
                    "failureRateMinRuns": 10,
                    "retentionPolicyOverride": None,
                },
                "dependencies": workflow_dependency_summary(draft, published, PAYLOAD_SCHEMA_REF),
                "draft": {"draftVersion": versions + 1, "definition": draft},
                "publishedVersions": [
                    {
                        "version": d["version"],
                        "definition": d,
                        "payloadSchemaJson": dict(EMPTY_PAYLOAD_SCHEMA),
                    }
                    for d in published
                ],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": "2026-01-01T00:00:00.000Z",
        "workflows": workflows,
    }
