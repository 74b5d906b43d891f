"""Helpers for the tests that run the real az (tests/e2e, tests/security): decoding tokens, reading az's
output, and the emulator's request log. Their fixtures live in tests/conftest.py."""
import dataclasses
import os
import subprocess

import jwt

from emulator.constants import DEVOPS_HOSTS
from emulator.devops import routing


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
