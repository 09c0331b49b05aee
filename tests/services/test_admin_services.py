"""The admin services: tenants and API keys, each call one committed transaction (both
databases). A revoked key stops authenticating; refused input is coded and writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algaflow.kernel.errors import AlgaflowError
from algaflow.services import admin
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.api_keys import authenticate


def _authenticates(uow: UnitOfWork, secret: str) -> bool:
    with uow.reading() as conn:
        return authenticate(conn, secret) is not None


def _code(call) -> str:
    with pytest.raises(AlgaflowError) as raised:
        call()
    return raised.value.code


def test_a_key_authenticates_for_its_tenant_until_revoked(engine):
    uow = UnitOfWork(engine)
    acme = admin.create_tenant(uow, "  acme ")
    assert acme.name == "acme"
    made = admin.create_api_key(uow, "acme", name="ci", permissions=["workflow:read"] * 2)
    assert made.key.tenant == "acme" and made.key.permissions == ("workflow:read",)
    assert made.secret.startswith("afk_") and made.secret[:12] == made.key.prefix
    with uow.reading() as conn:
        assert authenticate(conn, made.secret)["tenant"] == acme.id
    admin.revoke_api_key(uow, made.key.id)
    assert not _authenticates(uow, made.secret)
    (listed,) = admin.list_api_keys(uow, "acme")
    assert listed.id == made.key.id and listed.revoked
    assert _code(lambda: admin.revoke_api_key(uow, made.key.id)) == "API_KEY_NOT_FOUND"


def test_refused_input_is_coded_and_writes_nothing(engine):
    uow = UnitOfWork(engine)
    admin.create_tenant(uow, "acme")
    assert _code(lambda: admin.create_tenant(uow, "acme")) == "TENANT_NAME_CONFLICT"
    assert _code(lambda: admin.create_tenant(uow, " ")) == "INVALID_TENANT_NAME"
    assert _code(lambda: admin.create_tenant(uow, "a\x00b")) == "INVALID_TENANT_NAME"
    assert _code(lambda: admin.create_api_key(uow, "nobody")) == "TENANT_NOT_FOUND"
    assert _code(lambda: admin.list_api_keys(uow, "nobody")) == "TENANT_NOT_FOUND"
    # An unknown permission is refused before the default tenant would be created.
    assert _code(lambda: admin.create_api_key(uow, None, permissions=["x"])) == "INVALID_PERMISSION"
    assert _code(lambda: admin.create_api_key(uow, "acme", permissions=[])) == "INVALID_PERMISSION"
    assert _code(lambda: admin.revoke_api_key(uow, "not-a-key")) == "API_KEY_NOT_FOUND"
    assert [t.name for t in admin.list_tenants(uow)] == ["acme"]
    assert admin.list_api_keys(uow) == []


def test_the_bootstrap_key_is_made_once_for_the_default_tenant(engine):
    uow = UnitOfWork(engine)
    first = admin.bootstrap_admin_key(uow)
    assert first is not None and first.key.tenant == admin.DEFAULT_TENANT_NAME
    assert set(first.key.permissions) == set(admin.PERMISSIONS)
    assert _authenticates(uow, first.secret)
    assert admin.bootstrap_admin_key(uow) is None
    assert [t.name for t in admin.list_tenants(uow)] == [admin.DEFAULT_TENANT_NAME]
    assert admin.resolve_tenant(uow, None) == first.key.tenant_id


def test_no_bootstrap_key_once_any_key_exists(engine):
    uow = UnitOfWork(engine)
    admin.create_tenant(uow, "acme")
    admin.create_api_key(uow, "acme", permissions=["workflow:read"])
    assert admin.bootstrap_admin_key(uow) is None
    assert [t.name for t in admin.list_tenants(uow)] == ["acme"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(max_size=220))
def test_any_tenant_name_is_created_and_found_or_refused_with_a_code(engine, name):
    """Whatever the name, the tenant is stored and found again by its stripped name, or refused
    as INVALID_TENANT_NAME without a row; never a database error."""
    uow = UnitOfWork(engine)
    before = len(admin.list_tenants(uow))
    try:
        made = admin.create_tenant(uow, name)
    except AlgaflowError as err:
        assert err.code in ("INVALID_TENANT_NAME", "TENANT_NAME_CONFLICT")
        assert len(admin.list_tenants(uow)) == before
        return
    assert made.name == name.strip()
    assert admin.resolve_tenant(uow, made.name) == made.id
    assert _code(lambda: admin.create_tenant(uow, name)) == "TENANT_NAME_CONFLICT"
