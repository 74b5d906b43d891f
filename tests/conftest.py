"""Shared fixtures: one loopback emulator per test session, fresh az config dirs that already know it, and — for
tests/e2e and tests/security — the real az with the extension installed from a wheel built from this tree
(`az extension add --source`, as users install it), logged in to the emulator as each identity kind.

Logins are session-scoped templates; a test that changes az state works on a copy (``AzEnv.copy``).
"""
import glob
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # `pytest` run from elsewhere still finds the emulator package
    sys.path.insert(0, REPO)

from emulator.app import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from emulator.azenv import AzEnv  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The emulator, started once; it stops at the end of the session (or after an hour, whatever comes first)."""
    emu = Emulator(str(tmp_path_factory.mktemp("emulator")), max_seconds=3600).start()
    yield emu
    emu.stop("test session over")


@pytest.fixture(scope="session")
def registered_az_env(emulator, tmp_path_factory):
    """An az config dir with the emulator registered as the active cloud: a template to copy, not to log into."""
    env = AzEnv(emulator, str(tmp_path_factory.mktemp("az-template") / "config"))
    env.register_cloud()
    return env


@pytest.fixture
def az_env_factory(registered_az_env, tmp_path):
    """make() -> a fresh AzEnv (its own config dir, cloud registered, nobody logged in)."""
    made = []

    def make():
        made.append(registered_az_env.copy(str(tmp_path / f"azure-config-{len(made)}")))
        return made[-1]
    return make


@pytest.fixture
def az_env(az_env_factory):
    """A fresh AzEnv with the emulator registered as the active cloud and nobody logged in."""
    return az_env_factory()


# -- the real az with the extension installed (tests/e2e, tests/security) ---------------------------------------
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


@pytest.fixture
def devops(emulator):
    """The emulated Azure DevOps, its faults and request log cleared before and after the test."""
    service = emulator.services["devops"]
    service.reset_controls()
    emulator.log.clear()
    yield service
    service.reset_controls()
