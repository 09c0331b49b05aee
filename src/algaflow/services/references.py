"""Environment-specific references: list them, and check a bound bundle's in the target tenant.

The pure part (finding, binding) is :mod:`algaflow.bundle.instance_refs` and
:mod:`algaflow.bundle.bindings`; this module adds what needs the instance: the configured secrets,
the database connection a plugin's resolver may use, and the verdict of an import. The import
(``algaflow.services.bundles``) binds before its checks and calls :func:`check_in_tenant` in its
write transaction, before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from algaflow.bundle.bindings import Bindings, BoundBundle, bind_bundle, template
from algaflow.bundle.format import validate_bundle
from algaflow.bundle.import_checks import raise_if
from algaflow.bundle.instance_refs import FoundReference, find_references
from algaflow.bundle.limits import Problems, clip
from algaflow.config import Settings, load_settings
from algaflow.registry import ReferenceContext, Registry
from algaflow.registry.references import SECRET, WORKFLOW, Resolver
from algaflow.runtime.embedded.secrets import SecretNotFound, resolver_from_settings

Json = dict[str, Any]


class SecretSource(Protocol):
    """Where run-time ``$secret`` values come from (the runtime's secret resolvers)."""

    def resolve(self, name: str, run_id: str | None = None) -> str: ...


@dataclass(frozen=True)
class ReferenceOptions:
    """How an import treats environment-specific references.

    ``secrets``: the secrets runs will see; ``None`` means the configured ones (environment
    variables, secrets file) of :func:`algaflow.config.load_settings`.
    """

    bindings: Bindings | None = None
    allow_unresolved: bool = False
    secrets: SecretSource | None = None


def secret_source(settings: Settings) -> SecretSource:
    """The secrets runs started with ``settings`` resolve against."""
    return resolver_from_settings(settings)


@dataclass(frozen=True)
class ReferenceReport:
    """``bundle references`` and ``bundle bindings``: what was found, and the template."""

    references: list[FoundReference]

    def as_json(self) -> Json:
        return {
            "references": [r.as_json() for r in self.references],
            "bindingsTemplate": template(self.references),
        }


def list_references(bundle: Any, registry: Registry) -> ReferenceReport:
    """Every instance-specific value of ``bundle`` (which must pass the format check)."""
    validate_bundle(bundle)
    return ReferenceReport(find_references(bundle, registry))


def bind(bundle: Any, registry: Registry, options: ReferenceOptions | None) -> BoundBundle:
    """The bundle with ``options.bindings`` applied (``bind_bundle``)."""
    return bind_bundle(bundle, options.bindings if options else None, registry)


def check_in_tenant(
    conn: Connection,
    tenant_id: str,
    bound: BoundBundle,
    registry: Registry,
    options: ReferenceOptions | None,
) -> list[Json]:
    """Check every reference whose kind has a resolver; return the warnings.

    Raises ``UNRESOLVED_BINDINGS`` when a bound value does not exist (whatever
    ``allow_unresolved`` says: the bindings file is wrong), else ``UNRESOLVED_REFERENCES`` for
    every other value that does not exist, unless ``allow_unresolved`` makes those warnings.
    Kinds without a resolver give one ``REFERENCE_UNCHECKED`` warning each. ``workflow``
    references are left to the import's call check, which knows the bundle's own new ids.
    """
    options = options or ReferenceOptions()
    context = ReferenceContext(tenant_id, conn)
    by_kind: dict[str, list[FoundReference]] = defaultdict(list)
    for ref in bound.searched(registry).references or ():
        if ref.kind != WORKFLOW:
            by_kind[ref.kind].append(ref)
    warnings: list[Json] = []
    missing: list[FoundReference] = []
    for kind, refs in sorted(by_kind.items()):
        resolver = _resolver(kind, registry, options)
        values = {r.value for r in refs}
        if resolver is None:
            warnings.append(_unchecked(kind, values))
            continue
        existing = set(resolver(context, sorted(values)))
        missing.extend(r for r in refs if r.value not in existing)
    _raise_unresolved([r for r in missing if bound.bound(r)], "UNRESOLVED_BINDINGS")
    others = [r for r in missing if not bound.bound(r)]
    if not options.allow_unresolved:
        _raise_unresolved(others, "UNRESOLVED_REFERENCES")
    return [*warnings, *({**_problem(r), "code": "REFERENCE_UNRESOLVED"} for r in others)]


def _resolver(kind: str, registry: Registry, options: ReferenceOptions) -> Resolver | None:
    if kind == SECRET:
        secrets = options.secrets or secret_source(load_settings())
        return lambda _context, names: {n for n in names if _has_secret(secrets, n)}
    found = registry.references.get(kind)
    return found.resolver if found is not None else None


def _has_secret(secrets: SecretSource, name: str) -> bool:
    try:
        secrets.resolve(name)
    except SecretNotFound:
        return False
    return True


def _unchecked(kind: str, values: Collection[str]) -> Json:
    return {
        "code": "REFERENCE_UNCHECKED",
        "kind": kind,
        "values": sorted(values)[:100],
        "message": f"no resolver is registered for the reference kind {clip(kind)!r}: "
        f"{len(values)} value(s) imported unchecked",
    }


def _problem(ref: FoundReference) -> Json:
    return {
        **ref.as_json(),
        "instancePath": ref.path,
        "message": f"{ref.kind} {clip(ref.value)!r} does not exist in the target",
    }


def _raise_unresolved(refs: list[FoundReference], code: str) -> None:
    problems = Problems()
    for ref in refs:
        problems.add(_problem(ref))
    what = "Bound values" if code == "UNRESOLVED_BINDINGS" else "References"
    raise_if(problems, code, f"{what} the target tenant lacks (see details.errors):")
