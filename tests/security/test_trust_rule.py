"""The trust rule through the real az: the Entra token goes only to Azure DevOps Services hosts and to hosts trusted
by name (devops_token.trusted_hosts / AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS). The emulator's organization hosts are
127.0.0.1:<port>, trusted by emulator/azenv.py; here that trust is taken away (or narrowed), and every way the
organization's URL can arrive is refused before a token is fetched or a byte is sent."""
from urllib.parse import urlsplit

import pytest

from security_support import api_entries, error_lines, fresh_login

UNTRUSTED = {"AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": ""}


def netloc(url):
    return urlsplit(url).netloc


def assert_refused(result, host, source):
    assert result.returncode == 1, result
    (line,) = error_lines(result.stderr)
    assert "Refusing to send the Azure DevOps token to %s (from %s)" % (host, source) in line
    assert "az config set devops_token.trusted_hosts=%s" % host in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.fixture
def login(ext_template, tmp_path):
    """A new service principal login: no Azure DevOps token cached, so a token fetch would show in the log."""
    return fresh_login(ext_template, tmp_path / "config")


def nothing_asked(emulator, since):
    """No Azure DevOps request (not even the tenant probe) and no Entra token request since ``since``."""
    entries = emulator.log.entries()[since:]
    return not api_entries(emulator, since) and not [e for e in entries if e["listener"] == "login"]


@pytest.mark.parametrize("command", [
    ["devops-rest", "call", "--path", "_apis/projects"],
    ["devops-rest", "call", "--path", "_apis/projects", "--dry-run"],
    ["devops-token", "get"],
    ["devops-token", "whoami"],
])
def test_an_untrusted_org_is_refused_before_any_token_or_request(login, emulator, devops, command):
    org = emulator.org_url("contoso")
    since = len(emulator.log.entries())
    result = login.az(*command, "--org", org, env=UNTRUSTED)
    assert_refused(result, netloc(org), "--org")
    assert nothing_asked(emulator, since)


@pytest.mark.parametrize("where", ["az-config", "env", "azure-devops-config"])
def test_a_poisoned_default_organization_is_refused(login, emulator, devops, where, tmp_path):
    org = emulator.org_url("contoso")
    env = dict(UNTRUSTED)
    if where == "az-config":
        login.az("config", "set", "defaults.devops_organization=" + org, check=True)
    elif where == "env":
        env["AZURE_DEFAULTS_DEVOPS_ORGANIZATION"] = org
    else:
        (tmp_path / "ado").mkdir()
        (tmp_path / "ado" / "config").write_text("[defaults]\norganization = %s\n" % org)
        env["AZURE_DEVOPS_EXT_CONFIG_DIR"] = str(tmp_path / "ado")
    since = len(emulator.log.entries())
    result = login.az("devops-rest", "call", "--path", "_apis/projects", env=env)
    source = ("the azure-devops default organization" if where == "azure-devops-config"
              else "--org or the defaults.devops_organization setting")
    assert_refused(result, netloc(org), source)
    assert nothing_asked(emulator, since)


def test_git_helper_answers_nothing_for_an_untrusted_default_host(login, emulator, devops):
    org = emulator.org_url("contoso")
    login.az("config", "set", "defaults.devops_organization=" + org, check=True)
    request = "protocol=https\nhost=%s\npath=contoso/Website/_git/Website\n\n" % netloc(org)
    since = len(emulator.log.entries())
    refused = login.az("devops-token", "git-credential", "get", input=request, env=UNTRUSTED)
    assert refused.returncode == 0 and refused.stdout == "" and "Traceback" not in refused.stderr
    assert nothing_asked(emulator, since)
    answered = login.az("devops-token", "git-credential", "get", input=request)  # trusted by azenv
    assert answered.returncode == 0 and "password=" in answered.stdout


def test_a_resource_area_answer_on_an_untrusted_host_is_refused(login, emulator, devops):
    """The organization is trusted, its vssps host (where the resource area lookup points) is not."""
    org = emulator.org_url("contoso")
    result = login.az("devops-rest", "call", "--org", org, "--service", "vssps", "--path", "_apis/graph/users",
                      "--api-version", "7.1-preview.1", env={"AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": netloc(org)})
    assert_refused(result, netloc(emulator.urls["vssps"]), "the resource area lookup of %s" % org)
    assert all("authorization" not in e["headers"] for e in api_entries(emulator))


def test_a_trusted_org_still_works_and_a_malformed_setting_is_one_error(login, emulator, devops):
    org = emulator.org_url("contoso")
    ok = login.az("devops-rest", "call", "--org", org, "--path", "_apis/projects", "--query", "count")
    assert ok.returncode == 0, ok.stderr
    bad = login.az("devops-rest", "call", "--org", org, "--path", "_apis/projects",
                   env={"AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": "https://%s/" % netloc(org)})
    assert bad.returncode == 1 and "is not host[:port]" in error_lines(bad.stderr)[0]
    assert "Traceback" not in bad.stderr
