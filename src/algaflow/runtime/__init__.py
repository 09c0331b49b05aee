"""Runs: the interpreter core, its backends, and what they share.

``core`` decides (pure: definition + run state + ``now`` + one input -> next state and effects,
typed), ``embedded`` performs the effects in this process and persists the state after every step,
and ``correlation`` and ``envelope`` are event rules every backend shares. The API, the CLI and the
tests start and drive runs through ``algaflow.services``.
"""

RUNTIME_SEMANTICS_VERSION = "2026-04-08.algaflow-embedded.v1"
