"""Bindings: per kind, which instance-specific value of a bundle becomes which in the target.

A bindings file is a JSON object (or a TOML document) of kinds to tables of source value -> target
value (both strings)::

    {"user": {"u-ada": "u-1042"}, "secret": {"STAGING_TOKEN": "PROD_TOKEN"}}

The same bundle plus one bindings file per environment promotes a workflow from staging to
production. Pure: parsing, checking against the references found
(:mod:`algaflow.bundle.instance_refs`), applying (nothing mutated) and the template that
``bundle bindings`` prints.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from algaflow.bundle.errors import BundleError
from algaflow.bundle.instance_refs import FoundReference, Part, find_references
from algaflow.bundle.limits import clip, first
from algaflow.registry.references import SECRET

if TYPE_CHECKING:
    from algaflow.registry import Registry

Json = dict[str, Any]
#: kind -> source value -> target value
Bindings = dict[str, dict[str, str]]
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Substitution:
    """One found value and the value the bindings put in its place."""

    reference: FoundReference
    target: str

    def as_json(self) -> Json:
        return {**self.reference.as_json(), "target": self.target}


def _invalid(message: str, **details: Any) -> BundleError:
    return BundleError("INVALID_BINDINGS", f"Bindings: {message}", details=details or None)


def parse_bindings_text(raw: bytes, *, toml: bool = False) -> Bindings:
    """A bindings file's text (JSON, or TOML with ``toml``), shape-checked."""
    kind = "TOML" if toml else "JSON"
    try:
        text = raw.decode("utf-8")
        value = tomllib.loads(text) if toml else json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(f"not valid {kind} ({clip(str(exc))})") from None
    return bindings_value(value)


def bindings_value(value: Any) -> Bindings:
    """``value`` as bindings, or ``INVALID_BINDINGS`` naming the first misshapen entry."""
    if not isinstance(value, dict):
        raise _invalid("expected an object of kinds to tables of source value -> target value")
    for kind, table in value.items():
        if not isinstance(table, dict):
            raise _invalid(f"{clip(kind)!s} must map source values to target values", kind=kind)
        for source, target in table.items():
            if not isinstance(target, str) or not target:
                raise _invalid(
                    f"{clip(kind)}.{clip(source)} must be a non-empty string",
                    kind=kind,
                    value=clip(source),
                )
            if kind == SECRET and isinstance(target, str) and not _SECRET_NAME.fullmatch(target):
                raise _invalid(f"{clip(target)!r} is not a secret name", kind=kind)
    return value


def check_bindings(
    bindings: Bindings, found: Iterable[FoundReference], registry: Registry
) -> list[Json]:
    """Raise for kinds the registry lacks and for injective kinds that two values would share;
    return a ``BINDING_UNUSED`` warning for each source value no reference of the bundle has."""
    unknown = sorted(k for k in bindings if k not in registry.references)
    if unknown:
        raise BundleError(
            "UNKNOWN_REFERENCE_KIND",
            f"Bindings name reference kinds the registry lacks: {clip(', '.join(unknown))}",
            details={"kinds": first(unknown), "known": registry.references.names()},
        )
    used: dict[str, set[str]] = defaultdict(set)
    for ref in found:
        used[ref.kind].add(ref.value)
    for kind, values in used.items():
        kind_def = registry.references.get(kind)
        if kind_def is not None and kind_def.injective:
            _check_injective(kind, values, bindings.get(kind, {}))
    return [
        {
            "code": "BINDING_UNUSED",
            "kind": kind,
            "value": source,
            "message": f"no {kind} reference of the bundle has the value {clip(source)!r}",
        }
        for kind, table in bindings.items()
        for source in table
        if source not in used.get(kind, set())
    ]


def _check_injective(kind: str, values: set[str], table: Mapping[str, str]) -> None:
    sources: dict[str, list[str]] = defaultdict(list)
    for value in sorted(values):
        sources[table.get(value, value)].append(value)
    shared = [{"target": t, "values": v} for t, v in sources.items() if len(v) > 1]
    if shared:
        raise BundleError(
            "BINDINGS_NOT_INJECTIVE",
            f"Bindings give different {kind} values the same target, which the kind forbids: "
            f"{clip(', '.join(shared[0]['values']))}",
            details={"kind": kind, "shared": first(shared)},
        )


def apply_bindings(
    bundle: Json, bindings: Bindings, found: Iterable[FoundReference]
) -> tuple[Json, list[Substitution]]:
    """``bundle`` with every bound value replaced, and the substitutions made, in document order.

    Only the containers on a replaced
    value's path are copied; the rest is shared with ``bundle``.
    """
    substitutions = [
        Substitution(ref, bindings[ref.kind][ref.value])
        for ref in found
        if ref.value in bindings.get(ref.kind, {})
    ]
    tree: dict[Part, Any] = {}
    for sub in substitutions:
        node = tree
        *parents, leaf = sub.reference.parts
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _Leaf(sub.target)
    return _replaced(bundle, tree), substitutions


@dataclass(frozen=True)
class _Leaf:
    value: str


def _replaced(value: Any, tree: dict[Part, Any]) -> Any:
    if not tree:
        return value
    copy = dict(value) if isinstance(value, dict) else list(value)
    for part, sub in tree.items():
        new = sub.value if isinstance(sub, _Leaf) else _replaced(copy[part], sub)  # type: ignore[index]
        copy[part] = new  # type: ignore[index]
    return copy


def template(found: Iterable[FoundReference]) -> Bindings:
    """A bindings file binding every value found to itself, ready to edit (sorted)."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for ref in found:
        out[ref.kind][ref.value] = ref.value
    return {kind: dict(sorted(table.items())) for kind, table in sorted(out.items())}


@dataclass(frozen=True)
class BoundBundle:
    """A bundle after its bindings: what an import validates, checks in the tenant and writes,
    and what a plan shows."""

    bundle: Any
    #: the references of ``bundle`` (bound values already in place), in document order; ``None``
    #: when there were no bindings: then nothing was searched yet (see :func:`bind_bundle`)
    references: list[FoundReference] | None
    substitutions: list[Substitution]
    warnings: list[Json]
    #: the ``parts`` of every substituted value
    bound_parts: frozenset[tuple[Part, ...]] = frozenset()

    def bound(self, ref: FoundReference) -> bool:
        """Whether ``ref``'s value came from the bindings."""
        return ref.parts in self.bound_parts

    def searched(self, registry: Registry) -> BoundBundle:
        """This, with its references found (once the bundle has passed its checks)."""
        if self.references is not None:
            return self
        return replace(self, references=find_references(self.bundle, registry))


def bind_bundle(bundle: Any, bindings: Bindings | None, registry: Registry) -> BoundBundle:
    """Find the bundle's references, check ``bindings`` against them and apply them.

    Runs before the bundle's own checks (the values written are the bound ones), so a bundle
    that is not even a bundle passes through unchanged for those checks to refuse. Without
    bindings nothing is searched: a hostile bundle meets the bounded checks first, and the
    import finds the references once those have passed.
    """
    if not bindings:
        return BoundBundle(bundle, None, [], [])
    found = find_references(bundle, registry)
    warnings = check_bindings(bindings, found, registry)
    bound, substitutions = apply_bindings(bundle, bindings, found)
    targets = {s.reference.parts: s.target for s in substitutions}
    after = [replace(r, value=targets[r.parts]) if r.parts in targets else r for r in found]
    return BoundBundle(bound, after, substitutions, warnings, frozenset(targets))
