"""`az devops-token get` in-process, with az's Profile.get_raw_token replaced by a fake."""
import json
from unittest import mock

import pytest
import requests

import failure_chains
from azext_devopstoken._auth import AZURE_DEVOPS_RESOURCE, AccessToken

FAKE_TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJlLW9mLWEtZmFrZS10b2tlbg"


def fake_raw_token(calls):
    def get_raw_token(self, resource=None, scopes=None, subscription=None, tenant=None, credential_out=None):
        calls.append({"resource": resource, "scopes": scopes, "subscription": subscription, "tenant": tenant})
        entry = {"accessToken": FAKE_TOKEN, "expires_on": 1900000000, "expiresOn": "2030-03-17 17:46:40.000000"}
        return ("Bearer", FAKE_TOKEN, entry), (None if tenant else subscription or "sub-current"), \
            tenant or "tenant-current"
    return get_raw_token


@pytest.fixture
def raw_token_calls():
    calls = []
    with mock.patch("azure.cli.core._profile.Profile.get_raw_token", fake_raw_token(calls)):
        yield calls


def test_get_prints_the_get_access_token_shape(az, raw_token_calls):
    result = az("devops-token", "get", "-o", "json")
    assert result.exit_code == 0, result
    output = json.loads(result.stdout)
    assert output == {"tokenType": "Bearer", "accessToken": FAKE_TOKEN, "expires_on": 1900000000,
                      "expiresOn": "2030-03-17 17:46:40.000000", "tenant": "tenant-current",
                      "subscription": "sub-current"}
    assert raw_token_calls == [{"resource": AZURE_DEVOPS_RESOURCE, "scopes": None, "subscription": None,
                                "tenant": None}]


def test_query_access_token_tsv_prints_the_token_alone(az, raw_token_calls):
    result = az("devops-token", "get", "--query", "accessToken", "-o", "tsv")
    assert result.exit_code == 0, result
    assert result.stdout == FAKE_TOKEN + "\n"


def test_tenant_leaves_subscription_out(az, raw_token_calls):
    result = az("devops-token", "get", "-t", "f8cdef31-0000-4b00-9b00-00000000000b", "-o", "json")
    assert result.exit_code == 0, result
    output = json.loads(result.stdout)
    assert "subscription" not in output
    assert output["tenant"] == "f8cdef31-0000-4b00-9b00-00000000000b"
    assert raw_token_calls[0]["tenant"] == "f8cdef31-0000-4b00-9b00-00000000000b"


def test_global_subscription_reaches_the_token_request(az, raw_token_calls):
    result = az("devops-token", "get", "--subscription", "22222222-bbbb-4bbb-8bbb-000000000002", "-o", "json")
    assert result.exit_code == 0, result
    assert raw_token_calls[0]["subscription"] == "22222222-bbbb-4bbb-8bbb-000000000002"
    assert json.loads(result.stdout)["subscription"] == "22222222-bbbb-4bbb-8bbb-000000000002"


def test_subscription_and_tenant_together_is_a_usage_error(az, raw_token_calls):
    result = az("devops-token", "get", "--subscription", "sub-x", "--tenant", "tenant-y")
    assert result.exit_code == 1
    assert result.error_lines == ["ERROR: usage error: --subscription and --tenant/-t cannot be used together."]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not raw_token_calls


@pytest.mark.parametrize("failure, reason", [
    (failure_chains.refused_as_built(), "the connection was refused"),
    (requests.exceptions.ReadTimeout("read timed out"), "the connection timed out"),
    (requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED]"), "the TLS certificate was not trusted"),
])
def test_unreachable_token_service_is_one_error_line(az, failure, reason):
    failure.request = requests.Request("POST", "https://127.0.0.1:9/tenant/oauth2/v2.0/token?x=1").prepare()
    with mock.patch("azure.cli.core._profile.Profile.get_raw_token", side_effect=failure):
        result = az("devops-token", "get")
    assert result.exit_code == 1
    assert len(result.error_lines) == 1
    first_line = result.error_lines[0]
    assert first_line.startswith("ERROR: Cannot reach the Microsoft Entra token service at https://127.0.0.1:9: ")
    assert reason in first_line
    assert "Traceback" not in result.stderr and "x=1" not in result.stderr
    assert result.stdout == ""


def test_not_logged_in_keeps_az_message(az):
    result = az("devops-token", "get")
    assert result.exit_code == 1
    assert "Please run 'az login' to setup account." in result.stderr
    assert "Traceback" not in result.stderr


def test_access_token_repr_never_shows_the_token():
    token = AccessToken("Bearer", FAKE_TOKEN, 1, "x", "sub", "tenant")
    assert FAKE_TOKEN not in repr(token) and FAKE_TOKEN not in str(token)
    assert "tenant='tenant'" in repr(token)


def test_help_has_examples(az):
    result = az("devops-token", "get", "-h")
    assert "--query accessToken -o tsv" in result.stdout
    assert "Invoke-RestMethod" in result.stdout
    assert "--tenant -t" in result.stdout
