"""Runs: the interpreter core, its backends, and what they share.

``core`` decides (pure: definition + run state + ``now`` + one input -> next state and effects,
typed), ``embedded`` performs the effects in this process and persists the state after every step,
``correlation`` and ``envelope`` are event rules every backend shares, and ``service`` is what the
API, the CLI and the tests call.
"""

RUNTIME_SEMANTICS_VERSION = "2026-04-08.algaflow-embedded.v1"
