"""_federated in-process: recognising AADSTS700024, choosing the CI system, asking it for an assertion (HTTP layer
faked), and the one-line errors that never carry a secret."""
import io
import json

import pytest
import requests
from azure.cli.core.azclierror import AuthenticationError, AzureConnectionError

from azext_devopstoken import _federated

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYyJ9.c2lnbmF0dXJl"
GITHUB = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0",
          "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-secret"}
PIPELINES = {"SYSTEM_OIDCREQUESTURI": "https://dev.example/org/_apis/oidctoken/", "SYSTEM_ACCESSTOKEN": "job-secret",
             "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "5c0c 0000"}


class Refusal(Exception):
    def __init__(self, msal_error):
        super().__init__("refused")
        self.msal_error = msal_error


@pytest.mark.parametrize("error, expected", [
    ({"error": "invalid_client", "error_codes": [700024]}, True),
    ({"error_description": "AADSTS700024: Client assertion is not within its valid time range."}, True),
    ({"error": "invalid_client", "error_codes": [7000215]}, False),
    ({"error_description": "AADSTS7000241: something else"}, False),
    (None, False),
    ("AADSTS700024", False),
])
def test_is_expired_assertion(error, expected):
    assert _federated.is_expired_assertion(Refusal(error)) is expected


@pytest.mark.parametrize("user, expected", [
    ({"name": "app", "type": "servicePrincipal"}, True),
    ({"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"}, False),
    ({"name": "alice@contoso.example", "type": "user"}, False),
])
def test_renewable_account(user, expected):
    assert _federated.renewable_account({"user": user}) is expected


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self.raw = io.BytesIO(body)
        self.raw.read = lambda size, decode_content=True, _read=self.raw.read: _read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Sent(list):
    """Requests the code sent; ``set_answer((status, body bytes))`` or ``set_answer(exception)``."""
    answer = (200, b"{}")

    def set_answer(self, answer):
        self.answer = answer


@pytest.fixture
def sent(monkeypatch):
    calls = Sent()

    def request(method, url, **kwargs):
        calls.append(dict(kwargs, method=method, url=url))
        if isinstance(calls.answer, Exception):
            raise calls.answer
        return FakeResponse(*calls.answer)
    monkeypatch.setattr(requests, "request", request)
    return calls


def test_github_request_shape(sent):
    sent.set_answer((200, json.dumps({"value": JWT}).encode()))
    assert _federated.assertion_source(GITHUB)() == JWT
    (call,) = sent
    assert call["method"] == "GET"
    assert call["url"] == GITHUB["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=api%3A%2F%2FAzureADTokenExchange"
    assert call["headers"]["Authorization"] == "Bearer gh-request-secret"
    assert call["allow_redirects"] is False and call["timeout"]


def test_pipelines_request_shape(sent):
    sent.set_answer((200, json.dumps({"oidcToken": JWT}).encode()))
    assert _federated.assertion_source(PIPELINES)() == JWT
    (call,) = sent
    assert call["method"] == "POST" and call["data"] == b""
    assert call["url"] == "https://dev.example/org/_apis/oidctoken?api-version=7.1&serviceConnectionId=5c0c%200000"
    assert call["headers"]["Authorization"] == "Bearer job-secret"
    assert call["headers"]["X-TFS-FedAuthRedirect"] == "Suppress"


def test_github_is_preferred_and_incomplete_sets_are_ignored():
    assert _federated.assertion_source({}) is None
    assert _federated.assertion_source(dict(PIPELINES, SYSTEM_ACCESSTOKEN="")) is None
    assert _federated.assertion_source({"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x"}) is None


@pytest.mark.parametrize("answer, words", [
    ((401, b'{"message": "Bad credentials job-secret"}'), "HTTP 401"),
    ((200, b'{"oidcToken": null}'), "no 'oidcToken'"),
    ((200, b"<html>job-secret</html>"), "no 'oidcToken'"),
    ((200, b'{"oidcToken": "' + b"a" * 70000 + b'.b.c"}'), "no 'oidcToken'"),  # larger than any JWT: not read
])
def test_bad_answers_are_one_line_without_the_body(sent, answer, words):
    sent.set_answer(answer)
    with pytest.raises(AuthenticationError) as caught:
        _federated.assertion_source(PIPELINES)()
    message = str(caught.value)
    assert "SYSTEM_OIDCREQUESTURI" in message and words in message
    assert "job-secret" not in message and "\n" not in message


def test_unreachable_endpoint_is_a_connection_error(sent):
    sent.set_answer(requests.ConnectionError("refused"))
    with pytest.raises(AzureConnectionError) as caught:
        _federated.assertion_source(GITHUB)()
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in str(caught.value) and "gh-request-secret" not in str(caught.value)


def test_job_token_never_goes_over_plain_http(sent):
    with pytest.raises(AuthenticationError, match="not an https URL"):
        _federated.assertion_source(dict(GITHUB, ACTIONS_ID_TOKEN_REQUEST_URL="http://x/idtoken?a=1"))()
    assert sent == []


def test_assertion_is_fetched_once_per_process():
    fetched = []
    once = _federated._once(lambda: fetched.append(1) or JWT)  # pylint: disable=protected-access
    assert (once(), once()) == (JWT, JWT) and fetched == [1]


@pytest.mark.parametrize("environ, words", [
    ({"GITHUB_ACTIONS": "true"}, "'permissions: id-token: write'"),
    ({"TF_BUILD": "True", "SYSTEM_OIDCREQUESTURI": "https://x"},
     "missing: SYSTEM_ACCESSTOKEN, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
    ({}, "'az login --federated-token' again"),
])
def test_expired_without_source_says_how_to_fix_it(environ, words):
    message = str(_federated.expired_without_source(environ))
    assert message.startswith("The federated token given to 'az login' has expired (AADSTS700024)")
    assert words in message and "\n" not in message


# -- wiring in _auth: only AADSTS700024 for a service principal leads here --------------------------------------
@pytest.fixture
def refused(monkeypatch):
    """Profile.get_raw_token raising ``refused.error``; get_subscription answering ``refused.account``."""
    from unittest import mock

    class Setup:
        error = None
        account = {"id": "sub-1", "tenantId": "tenant-1", "user": {"name": "app-1", "type": "servicePrincipal"}}

    def get_raw_token(*_args, **_kwargs):
        raise Setup.error
    for name in _federated.GITHUB_VARS + _federated.PIPELINES_VARS + ("GITHUB_ACTIONS", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)  # the suite itself may run in a CI job
    with mock.patch("azure.cli.core._profile.Profile.get_raw_token", get_raw_token), \
            mock.patch("azure.cli.core._profile.Profile.get_subscription", lambda *_a, **_k: Setup.account):
        yield Setup


def _aadsts(code):
    return AuthenticationError("AADSTS%d: refused" % code,
                               msal_error={"error": "invalid_client", "error_codes": [code]})


def test_expired_federated_login_without_a_ci_system_is_one_line(az, refused):
    refused.error = _aadsts(700024)
    result = az("devops-token", "get")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == result.error_lines
    assert result.error_lines[0].startswith("ERROR: The federated token given to 'az login' has expired")


@pytest.mark.parametrize("code, user", [
    (7000215, {"name": "app-1", "type": "servicePrincipal"}),
    (700024, {"name": "alice@contoso.example", "type": "user"}),
])
def test_other_refusals_pass_through_as_az_made_them(az, refused, code, user):
    refused.error = _aadsts(code)
    refused.account = dict(refused.account, user=user)
    result = az("devops-token", "get")
    assert result.exit_code == 1 and "AADSTS%d: refused" % code in result.stderr
    assert "federated token given to" not in result.stderr


def test_renewal_uses_the_account_tenant_and_subscription(az, refused, monkeypatch):
    refused.error = _aadsts(700024)
    renewed = []

    def renew(_cli_ctx, account, resource, tenant=None):
        renewed.append((account["user"]["name"], resource, tenant))
        return JWT, 1900000000
    monkeypatch.setattr(_federated, "renew", renew)
    output = json.loads(az("devops-token", "get", "-o", "json").stdout)
    assert (output["accessToken"], output["expires_on"], output["tenant"], output["subscription"]) == (
        JWT, 1900000000, "tenant-1", "sub-1")
    assert renewed == [("app-1", "499b84ac-1321-427f-aa17-267ca6975798", None)]
