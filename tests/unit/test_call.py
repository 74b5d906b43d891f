"""`az devops-rest call` in-process against the loopback emulator's Azure DevOps, with az's
Profile.get_raw_token replaced by one that mints emulator tokens (the real token flow is covered end to end
in tests/e2e)."""
import hashlib
import json
import os
import time
from unittest import mock

import pytest

from emulator import Emulator
from emulator.azenv import TRUSTED_HOSTS_VARIABLE, trusted_devops_hosts
from emulator.devops.artifacts import artifact_sha256
from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.directory import TENANT_A, TENANT_B


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with Emulator(str(tmp_path_factory.mktemp("emu")), max_seconds=600) as emulator:
        yield emulator


@pytest.fixture
def devops(emu, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emu.ca_bundle)
    monkeypatch.setenv(TRUSTED_HOSTS_VARIABLE, trusted_devops_hosts(emu.urls))  # as emulator.azenv does for az
    service = emu.services["devops"]
    service.clear_faults()
    emu.log.clear()
    yield service
    service.clear_faults()


class TokenMinter:
    """Stands in for Profile.get_raw_token: emulator tokens for ci-bot (or another principal)."""

    def __init__(self, emu):
        self.emu = emu
        self.calls = []
        self.principal = "ci-bot"
        self.tenant = TENANT_A
        self.lifetime = 3600
        self.issued = []

    def account(self):
        """The az account the login holds, as Profile.get_subscription returns it."""
        principal = self.emu.directory.principal(self.principal)
        kind = {"servicePrincipal": "servicePrincipal", "user": "user"}.get(principal.kind, "user")
        user = {"name": principal.upn or principal.app_id, "type": kind}
        return {"id": "sub", "tenantId": self.tenant, "user": user}

    def __call__(self, profile, resource=None, scopes=None, subscription=None, tenant=None, credential_out=None):
        self.calls.append({"resource": resource, "tenant": tenant, "subscription": subscription})
        principal = self.emu.directory.principal(self.principal)
        tid = tenant or self.tenant
        token = self.emu.tokens.issue({"oid": principal.oid(tid) or principal.oid(TENANT_A),
                                       "appid": principal.app_id, "idtyp": "app"},
                                      AZURE_DEVOPS_RESOURCE, tid, self.lifetime)
        self.issued.append(token)
        expires_on = int(time.time()) + self.lifetime
        entry = {"accessToken": token, "expires_on": expires_on, "expiresOn": "later"}
        return ("Bearer", token, entry), (None if tenant else "sub"), tid


@pytest.fixture
def tokens(emu):
    minter = TokenMinter(emu)
    # Plain functions, so they bind to the Profile instance like the methods they replace.
    with mock.patch("azure.cli.core._profile.Profile.get_raw_token",
                    lambda profile, *args, **kwargs: minter(profile, *args, **kwargs)), \
            mock.patch("azure.cli.core._profile.Profile.get_subscription",
                       lambda profile, subscription=None: minter.account()):
        yield minter


def is_tenant_probe(entry):
    """The extension's unauthenticated HEAD of the organization URL, which finds the organization's tenant."""
    return entry["method"] == "HEAD" and entry["path"].count("/") == 1


def devops_requests(emu, probes=False):
    return [e for e in emu.log.entries() if e["listener"] == "devops" and not e["path"].startswith("/_emulator")
            and (probes or not is_tenant_probe(e))]


def test_list_projects_sends_token_and_fixed_headers(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "-o", "json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert document["count"] == 100 and len(document["value"]) == 100
    (entry,) = devops_requests(emu)
    assert entry["path"] == "/contoso/_apis/projects"
    assert entry["query"]["api-version"] == ["7.1"]
    assert entry["headers"]["authorization"] == "Bearer " + tokens.issued[0]
    assert entry["headers"]["x-tfs-fedauthredirect"] == "Suppress"
    assert entry["headers"]["x-vss-forcemsapassthrough"] == "true"
    assert entry["headers"]["user-agent"].startswith("devops-token/0.1.0")
    assert tokens.calls == [{"resource": AZURE_DEVOPS_RESOURCE, "tenant": None, "subscription": None}]


def test_a_first_page_says_more_results_exist(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "-o", "none")
    assert result.exit_code == 0
    assert "WARNING: Azure DevOps has more results than this page; add --paginate" in result.stderr
    last = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
              "--query-parameters", "$skip=200", "-o", "none")
    assert last.exit_code == 0 and "WARNING" not in last.stderr


def test_sign_in_page_is_an_authentication_error(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--headers", "Authorization=Bearer expired.or.bogus", "X-TFS-FedAuthRedirect=Allow")
    assert result.exit_code == 1
    (line,) = result.error_lines
    assert "answered with a sign-in page" in line and "not been added to the organization" in line
    assert "<html" not in result.stderr.lower()
    assert devops_requests(emu)[0]["status"] == 203


def test_paginate_merges_all_pages_on_one_connection_with_one_token(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "--paginate",
                "-o", "json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    names = [p["name"] for p in document["value"]]
    assert document["count"] == 260 == len(names) == len(set(names))
    entries = devops_requests(emu)
    assert len(entries) == 3
    assert "continuationToken" not in entries[0]["query"]
    assert all("continuationToken" in e["query"] for e in entries[1:])
    assert len({e["connection_id"] for e in entries}) == 1
    assert len(tokens.calls) == 1


def test_paginate_with_query_and_tsv(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "--paginate",
                "--query", "value[].name", "-o", "tsv")
    assert result.exit_code == 0, result
    assert len(result.stdout.splitlines()) == 260
    assert "Fetched" not in result.stderr  # progress only on a terminal


def test_max_items_stops_early(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "--paginate",
                "--max-items", "150", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["count"] == 150
    assert len(devops_requests(emu)) == 2


def test_query_parameters_are_encoded(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--query-parameters", "$top=5", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["count"] == 5
    assert devops_requests(emu)[0]["query"]["$top"] == ["5"]


def test_create_work_item_with_json_patch_then_wiql(az, emu, devops, tokens):
    patch = json.dumps([{"op": "add", "path": "/fields/System.Title", "value": "From devops-rest"}])
    created = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "-m", "POST",
                 "--path", "{project}/_apis/wit/workitems/$Task", "--body", patch, "-o", "json")
    assert created.exit_code == 0, created
    item = json.loads(created.stdout)
    assert item["fields"]["System.Title"] == "From devops-rest"
    assert devops_requests(emu)[0]["headers"]["content-type"] == "application/json-patch+json"
    wiql = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "-m", "POST",
              "--path", "{project}/_apis/wit/wiql", "--body",
              json.dumps({"query": "SELECT [System.Id] FROM WorkItems"}), "--query", "workItems[].id", "-o", "json")
    assert wiql.exit_code == 0, wiql
    assert item["id"] in json.loads(wiql.stdout)


def test_wrong_content_type_shows_the_server_message(az, emu, devops, tokens):
    patch = json.dumps([{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "-m", "POST",
                "--path", "{project}/_apis/wit/workitems/$Task", "--body", patch, "--content-type",
                "application/json")
    assert result.exit_code == 1
    assert len(result.error_lines) == 1
    assert "415" in result.error_lines[0] and "application/json-patch+json" in result.error_lines[0]


def test_not_found_exits_3(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects/NoSuchProject")
    assert result.exit_code == 3, result
    assert "TF200016" in result.error_lines[0] and "404" in result.error_lines[0]


def test_organization_tenant_is_discovered_and_used(az, emu, devops, tokens):
    tokens.principal, tokens.tenant = "alice", TENANT_A
    result = az("devops-rest", "call", "--org", emu.org_url("fabrikam"), "--path", "_apis/projects", "-o", "json")
    assert result.exit_code == 0, result
    assert [call["tenant"] for call in tokens.calls] == [TENANT_B]
    probe, real = devops_requests(emu, probes=True)
    assert is_tenant_probe(probe) and probe["path"] == "/fabrikam" and "authorization" not in probe["headers"]
    assert real["headers"]["authorization"] == "Bearer " + tokens.issued[0]
    again = az("devops-rest", "call", "--org", emu.org_url("fabrikam"), "--path", "_apis/projects", "-o", "none")
    assert again.exit_code == 0
    assert len(devops_requests(emu, probes=True)) == 3  # no second probe: the tenant came from the cache


def test_wrong_tenant_names_both_tenants_and_the_login_to_run(az, emu, devops, tokens):
    tokens.principal, tokens.tenant = "alice", TENANT_B
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--tenant", TENANT_B)
    assert result.exit_code == 1, result
    assert len(result.error_lines) == 1
    assert TENANT_B in result.error_lines[0] and TENANT_A in result.error_lines[0]
    assert "az login --tenant %s" % TENANT_A in result.stderr
    assert "Traceback" not in result.stderr


def test_throttling_is_retried_with_a_warning_naming_the_resource(az, emu, devops, tokens):
    devops.add_fault("throttle", path="/_apis/projects$", count=2, retry_after=1)
    started = time.monotonic()
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "-o", "json")
    assert result.exit_code == 0, result
    assert time.monotonic() - started >= 2.0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING: Azure DevOps answered")]
    assert len(warnings) == 2 and all("429" in w and "Core" in w for w in warnings)
    assert [e["status"] for e in devops_requests(emu)] == [429, 429, 200]


def test_throttling_beyond_the_budget_fails_with_the_server_message(az, emu, devops, tokens):
    devops.add_fault("throttle", path="/_apis/projects$", count=5, retry_after=30)
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--max-retry-wait", "5")
    assert result.exit_code == 1
    assert "TF400733" in result.error_lines[0]
    assert len(devops_requests(emu)) == 1


def test_post_is_not_retried_on_502(az, emu, devops, tokens):
    devops.add_fault("bad_gateway", path="/wiql$", count=1)
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "-m", "POST",
                "--path", "{project}/_apis/wit/wiql", "--body", '{"query": "SELECT [System.Id] FROM WorkItems"}')
    assert result.exit_code == 1
    assert "502" in result.error_lines[0] and "<html" not in result.stderr.lower()
    assert len(devops_requests(emu)) == 1


def test_absolute_url_off_the_organization_is_refused_before_a_token(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", emu.other_url + "/steal")
    assert result.exit_code == 1
    assert result.error_lines[0].startswith("ERROR: Refusing to send the Azure DevOps token to localhost")
    assert tokens.calls == [] and emu.log.entries(listener="other") == []


def test_redirect_off_the_organization_drops_the_token(az, emu, devops, tokens):
    devops.add_fault("redirect", path="/_apis/projects$", count=1, location=emu.other_url + "/landing")
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "-o", "json")
    assert result.exit_code == 0, result
    (landing,) = emu.log.entries(listener="other")
    assert "authorization" not in landing["headers"]


def test_download_streams_to_file_atomically(az, emu, devops, tokens, tmp_path):
    devops.set_artifact_size(3 * 1024 * 1024 + 17)
    target = tmp_path / "drop.zip"
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "--path",
                "{project}/_apis/build/builds/1001/artifacts", "--query-parameters", "artifactName=drop", "$format=zip",
                "--output-file", str(target))
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert hashlib.sha256(target.read_bytes()).hexdigest() == artifact_sha256(3 * 1024 * 1024 + 17)
    assert os.listdir(tmp_path) == ["drop.zip"]


def test_download_cut_off_every_time_leaves_nothing(az, emu, devops, tokens, tmp_path):
    devops.set_artifact_size(2 * 1024 * 1024)
    devops.add_fault("reset", path="/artifacts$", count=None, after_bytes=100000)
    target = tmp_path / "drop.zip"
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "--path",
                "{project}/_apis/build/builds/1001/artifacts", "--query-parameters", "artifactName=drop", "$format=zip",
                "--output-file", str(target), "--max-retries", "1")
    assert result.exit_code == 1
    assert len(result.error_lines) == 1 and "Cannot reach Azure DevOps" in result.error_lines[0]
    assert os.listdir(tmp_path) == []


def test_download_cut_off_once_is_fetched_again(az, emu, devops, tokens, tmp_path):
    devops.set_artifact_size(2 * 1024 * 1024)
    devops.add_fault("reset", path="/artifacts$", count=1, after_bytes=100000)
    target = tmp_path / "drop.zip"
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "-p", "Mobile App", "--path",
                "{project}/_apis/build/builds/1001/artifacts", "--query-parameters", "artifactName=drop", "$format=zip",
                "--output-file", str(target))
    assert result.exit_code == 0, result
    assert hashlib.sha256(target.read_bytes()).hexdigest() == artifact_sha256(2 * 1024 * 1024)


def test_debug_redacts_the_token(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects", "--debug",
                "-o", "none")
    assert result.exit_code == 0, result
    assert "Authorization': '<redacted>'" in result.stderr
    assert tokens.issued and all(token not in result.stderr for token in tokens.issued)
    assert result.stdout == ""


def test_user_authorization_header_is_sent_as_is_and_no_token_fetched(az, emu, devops, tokens):
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--headers", "Authorization=Bearer not-a-jwt")
    assert result.exit_code == 1
    assert tokens.calls == []
    assert devops_requests(emu)[0]["headers"]["authorization"] == "Bearer not-a-jwt"


def test_no_organization_anywhere(az, devops, tokens):
    result = az("devops-rest", "call", "--path", "_apis/projects")
    assert result.exit_code == 1
    assert result.error_lines == ["ERROR: No Azure DevOps organization given."]
    assert "defaults.devops_organization" in result.stderr


@pytest.mark.parametrize("extra, fragment", [
    (["--body", "{nope"], "--body is not valid JSON"),
    (["--path", "{team}/_apis/x"], "uses {team} but no team is set"),
    (["--path", "{area}/_apis/x"], "unknown placeholder {area}"),
    (["--query-parameters", "novalue"], "--query-parameters expects name=value"),
    (["--max-items", "5"], "--max-items applies to --paginate"),
    (["--parallel", "4"], "--parallel applies to --paginate"),
    (["--parallel", "1"], "--parallel applies to --paginate"),
    (["--paginate", "--parallel", "0"], "--parallel must be between 1 and 32; got 0."),
    (["--paginate", "--parallel", "33"], "--parallel must be between 1 and 32; got 33."),
    (["--output-file", "/no/such/dir/x.json"], "--output-file /no/such/dir/x.json: the folder"),
    (["--api-version", "7.0", "--query-parameters", "api-version=6.0"], "conflicts with the api-version"),
])
def test_bad_input_is_one_error_and_nothing_sent(az, emu, devops, tokens, extra, fragment):
    args = ["devops-rest", "call", "--org", emu.org_url("contoso")]
    if "--path" not in extra:
        args += ["--path", "_apis/projects"]
    result = az(*(args + extra))
    assert result.exit_code != 0
    assert len(result.error_lines) == 1 and fragment in result.error_lines[0], result
    assert "Traceback" not in result.stderr
    assert devops_requests(emu, probes=True) == [] and tokens.calls == []


@pytest.mark.parametrize("option, first, second", [("--api-version", "7.1", "7.0"), ("--path", "a", "b"),
                                                   ("--body", "{}", "[]"), ("--output-file", "x", "y")])
def test_options_that_decide_what_is_sent_cannot_repeat(az, emu, devops, tokens, option, first, second):
    args = ["devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects"]
    if option == "--path":
        args = args[:-2]
    result = az(*(args + [option, first, option, second]))
    assert result.exit_code == 2
    assert result.error_lines == ["ERROR: %s was given more than once; give it once." % option]
    assert devops_requests(emu, probes=True) == [] and tokens.calls == []


def test_a_secret_header_from_a_file_stays_out_of_the_debug_log(az, emu, devops, tokens, tmp_path):
    """az's --debug prints the command line; a PAT given as --headers @file is not on it."""
    header_file = tmp_path / "auth.txt"
    header_file.write_text("Authorization=Basic OnNlY3JldC1wYXQ=")
    result = az("devops-rest", "call", "--org", emu.org_url("contoso"), "--path", "_apis/projects",
                "--headers", "@" + str(header_file), "--debug", "-o", "none")
    assert devops_requests(emu)[0]["headers"]["authorization"] == "Basic OnNlY3JldC1wYXQ="
    assert "OnNlY3JldC1wYXQ" not in result.stderr + result.stdout
    assert tokens.calls == []
