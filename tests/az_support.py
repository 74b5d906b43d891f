"""Helpers for the tests that run the real az (tests/e2e, tests/security): decoding tokens, reading az's
output, and the emulator's request log. Their fixtures live in tests/conftest.py."""
import dataclasses
import json
import os
import subprocess

import jwt

from emulator.constants import DEVOPS_HOSTS
from emulator.devops import routing


UNREACHABLE_IDENTITY_URL = "https://127.0.0.1:9/msi/token"  # a closed loopback port
# az <= 2.72 reports an unreachable managed identity endpoint itself (auth/adal_authentication.py), in one ERROR
# line followed by an "Error detail:" line; newer az lets the extension's own message through.
AZ_OWN_UNREACHABLE_MSI = ("ERROR: Failed to connect to MSI. Please make sure MSI is configured correctly and check "
                          "the network connection.")


def skip_before(env, release, reason):
    """Skip the calling test, saying why, when the az under test is older than ``release`` (a tuple such as
    (2, 71, 0)): for what an older az cannot do at all. Never a silent pass."""
    if env.version < release:
        import pytest
        pytest.skip("az %s: %s" % (".".join(map(str, env.version)), reason))


def unreachable_identity_endpoint(env):
    """Extra environment that points this az's managed identity at a closed port, in the variable it reads."""
    return {env.identity_endpoint_variable: UNREACHABLE_IDENTITY_URL}


def unreachable_identity_errors(env, ours):
    """The ERROR lines expected for an unreachable managed identity endpoint: ``ours`` (a list of lines), or az's
    own message on az <= 2.72."""
    return ours if env.identity_endpoint_variable == "IDENTITY_ENDPOINT" else [AZ_OWN_UNREACHABLE_MSI]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("ERROR:")]


def python_az(env, *args):
    """`python <args>` with the az environment: for running `-X importtime -m azure.cli ...`."""
    python = os.path.join(os.path.dirname(env.az_path), "python")
    return subprocess.run([python, *args], capture_output=True, text=True, env=env.env, cwd=env.config_dir,
                          stdin=subprocess.DEVNULL, timeout=180, check=False)


def az_bytes(env, *args, input_bytes=None):
    """Run az with binary stdout (for bodies written to stdout unchanged)."""
    return subprocess.run([env.az_path, *args], input=input_bytes, capture_output=True, env=env.env,
                          cwd=env.config_dir, timeout=180, check=False,
                          stdin=subprocess.DEVNULL if input_bytes is None else None)


def is_tenant_probe(entry):
    """The extension's unauthenticated HEAD of an organization URL, which finds the organization's tenant."""
    return entry["method"] == "HEAD" and entry["path"].count("/") == 1


def devops_requests(emulator, path_suffix="", probes=False):
    return [e for e in emulator.log.entries() if e["listener"] in DEVOPS_HOSTS
            and not e["path"].startswith("/_emulator") and e["path"].endswith(path_suffix)
            and (probes or not is_tenant_probe(e))]


def replace_devops_handler(monkeypatch, handler, replacement):
    """Route the emulated Azure DevOps' requests for ``handler`` (a function of emulator.devops.areas) to
    ``replacement(call)`` for the rest of the test: for answers no fault kind gives."""
    monkeypatch.setattr(routing, "ROUTES", tuple(
        dataclasses.replace(route, handler=replacement) if route.handler is handler else route
        for route in routing.ROUTES))


def max_in_flight(entries, latency):
    """The least number of requests the server had in flight at once: each entry lasted at least ``latency``."""
    starts = sorted(entry["time"] for entry in entries)
    return max(sum(1 for other in starts if other <= start < other + latency) for start in starts)


def devops_call(env, emulator, *args, org="contoso", **kwargs):
    """`az devops-rest call --org <the emulator's organization> ARGS` through the real az."""
    return env.az("devops-rest", "call", "--org", emulator.org_url(org), *args, **kwargs)


def ok_json(result):
    """The JSON output of a command that must have succeeded."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
