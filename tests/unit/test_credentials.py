"""The credential of a call without --headers Authorization (azext_devopstoken._credentials)."""
from unittest import mock

import pytest

from azext_devopstoken._credentials import PatSource, basic_pat, environment_pat
from azext_devopstoken._org import parse_organization

SERVER = parse_organization("https://tfs.example.com/tfs/DefaultCollection")
SERVICES = parse_organization("https://dev.azure.com/contoso")


def _ctx(trusted=""):
    ctx = mock.Mock()
    ctx.config.get.return_value = trusted
    return ctx


def test_basic_with_an_empty_user_name():
    assert basic_pat("abc") == "Basic OmFiYw=="          # base64(":abc")
    assert PatSource("abc").authorization() == "Basic OmFiYw==" and "abc" not in repr(PatSource("abc"))


@pytest.mark.parametrize("organization, pat, trusted, expected", [
    (SERVER, "p", "", "p"), (SERVER, "", "", None), (SERVICES, "p", "", None),
    (SERVER, "p", "tfs.example.com", None), (SERVER, "p", "other.example.com, tfs.example.com:443", None),
    (SERVER, "p", "tfs.example.com:8443", "p"),
])
def test_pat_only_for_hosts_that_get_no_entra_token(monkeypatch, organization, pat, trusted, expected):
    monkeypatch.delenv("AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS", raising=False)
    monkeypatch.setenv("AZURE_DEVOPS_EXT_PAT", pat)
    assert environment_pat(_ctx(trusted), organization) == expected
