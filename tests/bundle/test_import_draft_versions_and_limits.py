"""Draft versions an import refuses, raises or keeps; the bounds on what a refused bundle costs."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.bundle.bundle_factory import bundle, import_into, row_counts, workflow

from algaflow.api.statuses import status_for
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import _duplicate_pair, schema_errors
from algaflow.bundle.limits import MAX_DETAILS_CHARS, bound_details


def _versions(*numbers: int) -> list[dict]:
    entry = workflow("x")
    source = entry["publishedVersions"][0]
    return [{**source, "version": n} for n in numbers]


def test_draft_versions_that_cannot_work_are_refused_with_every_workflow(engine, tenant, registry):
    data = bundle(
        workflow("d.zero", draft_version=0),
        workflow("d.negative", draft_version=-3),
        workflow("d.below", versions=_versions(1, 5), draft_version=4),
        workflow("d.fine", versions=_versions(1, 2), draft_version=3),
    )
    before = row_counts(engine)
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, data, registry, force=True)
    assert caught.value.code == "INVALID_DRAFT_VERSION"
    assert status_for(caught.value.code) == 400
    errors = caught.value.details["errors"]
    assert [
        (e["workflowKey"], e["draftVersion"], e["highestPublishedVersion"]) for e in errors
    ] == [
        ("d.zero", 0, 1),
        ("d.negative", -3, 1),
        ("d.below", 4, 5),
    ]
    assert errors[2]["instancePath"] == "/workflows/2/draft/draftVersion"
    assert row_counts(engine) == before


def test_a_draft_version_equal_to_the_highest_published_is_raised(engine, tenant, registry):
    data = bundle(workflow("d.equal", versions=_versions(1, 2), draft_version=2))
    summary = import_into(engine, tenant, data, registry)
    assert [(w["code"], w["storedDraftVersion"]) for w in summary["warnings"]] == [
        ("DRAFT_VERSION_RAISED", 3)
    ]
    with engine.connect() as conn:
        from algaflow.store.workflows import get_workflow_by_key

        assert get_workflow_by_key(conn, tenant, "d.equal").draft_version == 3


@settings(max_examples=40, deadline=None)
@given(
    draft=st.integers(-3, 8),
    numbers=st.lists(st.integers(1, 7), unique=True, max_size=3),
)
def test_property_draft_version_rule(draft, numbers):
    """Refused exactly when below 1 or below the highest published version (no database)."""
    from algaflow.bundle.import_checks import draft_version_after, draft_version_problems

    entry = workflow("p.key", versions=_versions(*numbers), draft_version=draft)
    refused = bool(draft_version_problems([entry]))
    highest = max(numbers, default=None)
    assert refused == (draft < 1 or (highest is not None and draft < highest))
    if not refused:
        stored = draft_version_after(entry)
        assert stored >= 1 and all(stored > n for n in numbers)


# --- limits -------------------------------------------------------------------------------------


def _pairwise(items: list) -> tuple[int, int] | None:
    """Ajv's (i, j) by brute force: the reference for the linear version."""
    from jsonschema._utils import equal

    for i in range(len(items) - 1, 0, -1):
        for j in range(i - 1, -1, -1):
            if equal(items[i], items[j]):
                return i, j
    return None


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([1.0, 0.0, 2.5])
    | st.text(max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_JSON, max_size=6))
def test_property_duplicate_pair_matches_pairwise_comparison(items):
    assert _duplicate_pair(items) == _pairwise(items)


def test_unique_items_of_many_objects_is_fast():
    data = bundle(workflow("u.key"))
    many = [{"actionId": f"a{i}", "version": 1} for i in range(20_000)]
    data["workflows"][0]["dependencies"]["actions"] = [*many, many[0]]
    started = time.perf_counter()
    errors = schema_errors(data)
    assert time.perf_counter() - started < 5  # pairwise: 2e8 comparisons, many minutes
    assert [e["keyword"] for e in errors] == ["uniqueItems"]
    assert errors[0]["params"] == {"i": 20_000, "j": 0}


@settings(max_examples=50, deadline=None)
@given(
    count=st.integers(0, 5_000),
    text=st.text(min_size=0, max_size=5_000),
)
def test_property_bounded_details_stay_small(count, text):
    details = {"errors": [{"message": text, "path": [text] * 3} for _ in range(count)]}
    bounded = bound_details(details)
    size = len(repr(bounded))
    assert size < MAX_DETAILS_CHARS * 2
    kept = len(bounded["errors"])
    assert kept + bounded.get("errorsOmitted", 0) == count
    assert all(len(e["message"]) <= 250 for e in bounded["errors"])


def test_bounded_details_add_to_an_existing_count():
    details = {"errors": list(itertools.repeat({"m": "x"}, 150)), "errorsOmitted": 7}
    bounded = bound_details(details)
    assert len(bounded["errors"]) == 100
    assert bounded["errorsOmitted"] == 57
