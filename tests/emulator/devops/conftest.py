"""Fixtures of the emulated Azure DevOps tests: one emulator of their own, its controls reset after each test."""
import pytest

from devops_support import token_for
from emulator.app import Emulator


@pytest.fixture(scope="session")
def devops_emu(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("devops-emu"), max_seconds=900).start()
    yield emu
    emu.stop()


@pytest.fixture(autouse=True)
def _clean_controls(devops_emu):
    yield
    devops_emu.services["devops"].reset_controls()


@pytest.fixture()
def service(devops_emu):
    return devops_emu.services["devops"]


@pytest.fixture(scope="session")
def alice(devops_emu):
    return token_for(devops_emu)
