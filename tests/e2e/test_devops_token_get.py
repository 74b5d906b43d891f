"""`az devops-token get` through the real az, for every identity kind az login supports."""
import json

import pytest

from az_support import (claims, error_lines, python_az, unreachable_identity_endpoint,
                        unreachable_identity_errors)
from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.directory import SUB_A, SUB_B, TENANT_A, TENANT_B


def get_token(env, *args):
    result = env.az("devops-token", "get", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_installed_from_the_wheel(fresh_env):
    listed = fresh_env.az_json("extension", "list")
    (ours,) = [e for e in listed if e["name"] == "devops-token"]
    assert ours["version"] == "0.1.0" and ours["extensionType"] == "whl"
    assert ours["path"].startswith(fresh_env.extension_dir)


def test_service_principal_with_secret(sp_env, emulator):
    output = get_token(sp_env)
    assert set(output) == {"accessToken", "expiresOn", "expires_on", "subscription", "tenant", "tokenType"}
    assert output["tokenType"] == "Bearer" and output["tenant"] == TENANT_A and output["subscription"] == SUB_A
    token = claims(output["accessToken"])
    assert token["aud"] == AZURE_DEVOPS_RESOURCE and token["tid"] == TENANT_A
    assert token["appid"] == emulator.directory.principal("ci-bot").app_id
    assert abs(token["exp"] - output["expires_on"]) <= 5


def test_query_access_token_tsv_is_the_token_alone(sp_env):
    result = sp_env.az("devops-token", "get", "--query", "accessToken", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    token = result.stdout.rstrip("\n")
    assert "\n" not in token and token.count(".") == 2
    assert claims(token)["aud"] == AZURE_DEVOPS_RESOURCE


def test_service_principal_with_certificate(cert_env, emulator):
    token = claims(get_token(cert_env)["accessToken"])
    assert token["appid"] == emulator.directory.principal("ci-cert").app_id and token["tid"] == TENANT_A


def test_system_assigned_managed_identity(mi_env, emulator):
    token = claims(get_token(mi_env)["accessToken"])
    principal = emulator.directory.principal("mi-system")
    assert token["aud"] == AZURE_DEVOPS_RESOURCE and token["oid"] == principal.oid(TENANT_A)


def test_user_assigned_managed_identity(uami_env, emulator):
    token = claims(get_token(uami_env)["accessToken"])
    principal = emulator.directory.principal("mi-user")
    assert token["appid"] == principal.app_id and token["oid"] == principal.oid(TENANT_A)


def test_user_in_home_tenant_and_in_a_second_tenant(user_env, emulator):
    alice = emulator.directory.principal("alice")
    home = get_token(user_env)
    assert home["tenant"] == TENANT_A and claims(home["accessToken"])["oid"] == alice.oid(TENANT_A)
    assert claims(home["accessToken"])["upn"] == alice.upn
    guest = get_token(user_env, "--tenant", TENANT_B)
    assert "subscription" not in guest and guest["tenant"] == TENANT_B
    assert claims(guest["accessToken"])["tid"] == TENANT_B
    assert claims(guest["accessToken"])["oid"] == alice.oid(TENANT_B)
    by_subscription = get_token(user_env, "--subscription", SUB_B)
    assert by_subscription["subscription"] == SUB_B and claims(by_subscription["accessToken"])["tid"] == TENANT_B


def test_not_logged_in(fresh_env):
    result = fresh_env.az("devops-token", "get")
    assert result.returncode == 1
    assert "Please run 'az login' to setup account." in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_entra_refusal_shows_the_aadsts_error(sp_env):
    result = sp_env.az("devops-token", "get", "--tenant", TENANT_B)
    assert result.returncode == 1
    assert "AADSTS" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unreachable_identity_endpoint_is_one_error_line(mi_env):
    ours = mi_env.az("devops-token", "get", env=unreachable_identity_endpoint(mi_env))
    assert ours.returncode == 1
    assert error_lines(ours.stderr) == unreachable_identity_errors(mi_env, [
        "ERROR: Cannot reach the Microsoft Entra token service at https://127.0.0.1:9: the connection was refused."])
    assert "Traceback" not in ours.stderr and ours.stdout == ""


def test_subscription_and_tenant_together(sp_env):
    result = sp_env.az("devops-token", "get", "--subscription", SUB_A, "--tenant", TENANT_A)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "ERROR: usage error: --subscription and --tenant/-t cannot be used together."]


@pytest.mark.parametrize("args", [["devops-token", "-h"], ["devops-token", "get", "-h"]])
def test_help(fresh_env, args):
    result = fresh_env.az(*args)
    assert result.returncode == 0
    assert "Microsoft Entra" in result.stdout


def test_get_help_has_bash_and_powershell_examples(fresh_env):
    result = fresh_env.az("devops-token", "get", "-h")
    assert "token=$(az devops-token get --query accessToken -o tsv)" in result.stdout
    assert "Invoke-RestMethod" in result.stdout and "curl" in result.stdout


def _imports(env, *args):
    result = python_az(env, "-X", "importtime", "-m", "azure.cli", *args)
    return result, [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]


@pytest.mark.parametrize("args", [["version"], ["account", "show"]])
def test_unrelated_commands_do_not_import_the_extension(sp_env, args):
    result, modules = _imports(sp_env, *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert modules, "no -X importtime output"
    assert not [m for m in modules if m.startswith("azext_devopstoken")]


def test_our_own_command_does_import_it(sp_env):
    result, modules = _imports(sp_env, "devops-token", "get", "--query", "tokenType")
    assert result.returncode == 0, result.stderr[-2000:]
    # The positive control: the same probe does see the extension's modules when its command runs.
    assert "azext_devopstoken._auth" in modules and "azext_devopstoken.commands" in modules
