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


# -- tenant from any answer, as Git Credential Manager reads it (issue 9, item 4) ---------------------------------
def _answer(**headers):
    from types import SimpleNamespace
    from requests.structures import CaseInsensitiveDict
    return SimpleNamespace(headers=CaseInsensitiveDict(headers))


MSA = _tenant.MSA_TENANT


@pytest.mark.parametrize("headers, tenant", [
    ({"X-VSS-ResourceTenant": TENANT_A}, TENANT_A),
    ({"X-VSS-ResourceTenant": "%s, %s" % (TENANT_B, MSA)}, TENANT_B),          # doubled header, joined by requests
    ({"X-VSS-ResourceTenant": "%s, %s, %s" % (MSA, TENANT_A, TENANT_B)}, TENANT_A),   # GCM: first non-zero wins
    ({"X-VSS-ResourceTenant": MSA}, MSA),                                         # one zero value: MSA org
    ({"X-VSS-ResourceTenant": "%s, %s" % (MSA, MSA)}, None),
    ({"X-VSS-ResourceTenant": "not-a-guid"}, None),
    ({"WWW-Authenticate": "Bearer authorization_uri=https://login.windows.net/%s, Basic realm=\"x\"" % TENANT_B,
      "X-VSS-ResourceTenant": TENANT_A}, TENANT_B),                               # the challenge wins
    ({"WWW-Authenticate": "Bearer, NTLM", "X-VSS-ResourceTenant": TENANT_A}, TENANT_A),
    ({"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/%s"' % TENANT_A}, TENANT_A),
    ({}, None),
])
def test_resource_tenant_from_any_answer(headers, tenant):
    assert _tenant.resource_tenant(_answer(**headers)) == tenant


class _ProbeCtx:
    def __init__(self, config_dir):
        self.config = mock.Mock(config_dir=config_dir)
        self.data = {}


class _Transport:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def send(self, *args, **kwargs):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        answer = _answer(**self.answer)
        answer.close, answer.status_code = (lambda: None), 500
        return answer


def test_only_a_definitive_answer_is_cached(tmp_path):
    from azext_devopstoken._http import GaveUp
    org = parse_organization("https://dev.azure.com/contoso")
    ctx = _ProbeCtx(str(tmp_path))
    for failing in ({}, GaveUp(TimeoutError("slow"), 1)):
        transport = _Transport(failing)
        assert _tenant.discover_tenant(ctx, org, transport) is None
        assert _tenant.cached_tenant(ctx, org.url) == (False, None)
    transport = _Transport({"X-VSS-ResourceTenant": TENANT_B})
    assert _tenant.discover_tenant(ctx, org, transport) == TENANT_B
    assert _tenant.discover_tenant(ctx, org, transport) == TENANT_B and transport.calls == 1
