"""End-to-end fixtures: the real `az` in subprocesses, the extension installed from a wheel built from this
tree (`az extension add --source`, as users install it), logged in to the emulator as each identity kind.

Logins are session-scoped templates; a test that changes az state works on a copy (``AzEnv.copy``).
"""
import glob
import os
import subprocess
import sys

import jwt
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """A wheel of the current source (never a stale dist/ one)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "-w", str(out), REPO], check=True, capture_output=True)
    (path,) = glob.glob(str(out / "devops_token-*-py3-none-any.whl"))
    return path


@pytest.fixture(scope="session")
def extension_dir(emulator, wheel, tmp_path_factory):
    from emulator.azenv import AzEnv
    root = tmp_path_factory.mktemp("extensions")
    env = AzEnv(emulator, str(root / "install-config"), extension_dir=str(root / "cliextensions"))
    env.az("extension", "add", "--source", wheel, "--yes", check=True)
    return env.extension_dir


@pytest.fixture(scope="session")
def ext_template(emulator, extension_dir, tmp_path_factory):
    """Cloud registered, extension installed, command index built, nobody logged in."""
    from emulator.azenv import AzEnv
    env = AzEnv(emulator, str(tmp_path_factory.mktemp("ext-template") / "config"), extension_dir=extension_dir)
    env.register_cloud()
    env.az("devops-token", "-h", check=True)
    return env


def _logged_in(template, tmp_path_factory, name, login):
    env = template.copy(str(tmp_path_factory.mktemp(name) / "config"))
    login(env)
    return env


@pytest.fixture(scope="session")
def sp_env(ext_template, tmp_path_factory):
    return _logged_in(ext_template, tmp_path_factory, "sp", lambda env: env.login_service_principal("ci-bot"))


@pytest.fixture(scope="session")
def cert_env(ext_template, tmp_path_factory):
    return _logged_in(ext_template, tmp_path_factory, "cert", lambda env: env.login_service_principal("ci-cert"))


@pytest.fixture(scope="session")
def mi_env(ext_template, tmp_path_factory):
    return _logged_in(ext_template, tmp_path_factory, "mi", lambda env: env.login_managed_identity())


@pytest.fixture(scope="session")
def uami_env(ext_template, tmp_path_factory):
    return _logged_in(ext_template, tmp_path_factory, "uami",
                      lambda env: env.login_managed_identity(user_assigned=True))


@pytest.fixture(scope="session")
def user_env(ext_template, tmp_path_factory):
    return _logged_in(ext_template, tmp_path_factory, "user", lambda env: env.login_user("alice"))


@pytest.fixture
def fresh_env(ext_template, tmp_path):
    """Extension installed, nobody logged in, a config dir of the test's own."""
    return ext_template.copy(str(tmp_path / "config"))


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


@pytest.fixture
def devops(emulator):
    """The emulated Azure DevOps, its faults and request log cleared before and after the test."""
    service = emulator.services["devops"]
    service.reset_controls()
    emulator.log.clear()
    yield service
    service.reset_controls()


def is_tenant_probe(entry):
    """The extension's unauthenticated HEAD of an organization URL, which finds the organization's tenant."""
    return entry["method"] == "HEAD" and entry["path"].count("/") == 1


def devops_requests(emulator, path_suffix="", probes=False):
    return [e for e in emulator.log.entries() if e["listener"] in ("devops", "vssps", "vsrm")
            and not e["path"].startswith("/_emulator") and e["path"].endswith(path_suffix)
            and (probes or not is_tenant_probe(e))]
