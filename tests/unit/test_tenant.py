"""Which login may switch to the organization's tenant, decided from the az account alone."""
from unittest import mock

import pytest
from azure.cli.core.azclierror import AuthenticationError

from azext_devopstoken import _auth, _tenant
from azext_devopstoken._org import parse_organization

TENANT_A, TENANT_B = "72f988bf-0000-4a00-9a00-00000000000a", "f8cdef31-0000-4b00-9b00-00000000000b"


@pytest.mark.parametrize("user, kind", [
    ({"name": "alice@contoso.example", "type": "user"}, "user"),
    ({"name": "c1b0c1b0-0000-4000-8000-000000000001", "type": "servicePrincipal"}, "servicePrincipal"),
    ({"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"},
     "managedIdentity"),
    ({"name": "userAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSIClient-x"},
     "managedIdentity"),
    ({"name": "live.com#alice@example.com", "type": "user", "cloudShellID": True}, "cloudShell"),
])
def test_account_kind(user, kind):
    assert _tenant.account_kind({"user": user}) == kind


class _Ctx:
    data = {}


@pytest.mark.parametrize("user, words", [
    ({"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"},
     "this managed identity is in tenant"),
    ({"name": "alice@example.com", "type": "user", "cloudShellID": True}, "this Cloud Shell login is in tenant"),
])
def test_logins_that_cannot_switch_tenant_are_told_so_before_any_token(user, words):
    account = {"tenantId": TENANT_A, "user": user}
    with mock.patch.object(_tenant, "current_account", return_value=account), \
            mock.patch.object(_tenant, "discover_tenant", return_value=TENANT_B), \
            mock.patch.object(_auth, "get_access_token") as get_access_token:
        with pytest.raises(AuthenticationError) as info:
            _auth.get_organization_token(_Ctx(), parse_organization("fabrikam"), transport=None)
    assert words in str(info.value) and TENANT_A in str(info.value) and TENANT_B in str(info.value)
    get_access_token.assert_not_called()
