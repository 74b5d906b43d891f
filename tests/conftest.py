"""Shared fixtures: one loopback emulator per test session, and fresh az config dirs that already know it."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # `pytest` run from elsewhere still finds the emulator package
    sys.path.insert(0, REPO)

from emulator.azenv import AzEnv  # noqa: E402  pylint: disable=wrong-import-position
from emulator.core import Emulator  # noqa: E402  pylint: disable=wrong-import-position


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
