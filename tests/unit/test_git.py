import io

import pytest

from azext_devopstoken._git import organization_for, read_request


class _Config:
    def __init__(self, default=None, trusted="tfs.example.com"):
        self.values = {("defaults", "devops_organization"): default, ("devops_token", "trusted_hosts"): trusted}
        self.config_dir = "/nonexistent"

    def get(self, section, option, fallback=None):
        value = self.values.get((section, option))
        return fallback if value is None else value


class _Ctx:
    def __init__(self, default=None, trusted="tfs.example.com"):
        self.config = _Config(default, trusted)


def test_read_request_stops_at_blank_line():
    stream = io.StringIO("protocol=https\nhost=dev.azure.com\nwwwauth[]=Basic realm=x\n\nignored=1\n")
    assert read_request(stream) == {"protocol": "https", "host": "dev.azure.com", "wwwauth": "Basic realm=x"}


@pytest.mark.parametrize("fields, ours, url", [
    ({"protocol": "https", "host": "dev.azure.com", "path": "contoso/P/_git/R"}, True, "https://dev.azure.com/contoso"),
    ({"protocol": "https", "host": "dev.azure.com", "username": "fabrikam"}, True, "https://dev.azure.com/fabrikam"),
    ({"protocol": "https", "host": "dev.azure.com"}, True, None),
    ({"protocol": "https", "host": "contoso.visualstudio.com"}, True, "https://contoso.visualstudio.com"),
    ({"protocol": "http", "host": "dev.azure.com", "path": "contoso/P/_git/R"}, False, None),
    ({"protocol": "https", "host": "github.com", "path": "cli/cli"}, False, None),
    ({"protocol": "https", "host": "dev.azure.com.evil.example"}, False, None),
    ({"protocol": "https", "host": "a.b.visualstudio.com"}, False, None),
])
def test_organization_for(fields, ours, url):
    found, org = organization_for(_Ctx(), fields)
    assert found is ours
    assert (org.url if org else None) == url


def test_configured_organization_host_is_ours():
    ctx = _Ctx("https://tfs.example.com/tfs/Coll")
    found, org = organization_for(ctx, {"protocol": "https", "host": "tfs.example.com"})
    assert found and org.url == "https://tfs.example.com/tfs/Coll"
    assert organization_for(ctx, {"protocol": "https", "host": "other.example.com"}) == (False, None)


@pytest.mark.parametrize("trusted", ["", "tfs.example.com:8443", "other.example.com"])
def test_configured_organization_on_an_untrusted_host_gets_no_answer(trusted):
    """The default organization alone does not make a host one the token may go to (devops_token.trusted_hosts)."""
    ctx = _Ctx("https://tfs.example.com/tfs/Coll", trusted=trusted)
    assert organization_for(ctx, {"protocol": "https", "host": "tfs.example.com"}) == (False, None)
