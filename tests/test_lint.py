"""Lint as a test, so CI enforces azdev's style settings (flake8 and pylint at 120 columns)."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_flake8_clean():
    result = _run("flake8", "azext_devopstoken", "emulator", "tests", "setup.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pylint_clean_on_the_extension():
    result = _run("pylint", "--rcfile", "pylintrc", "azext_devopstoken")
    assert result.returncode == 0, result.stdout + result.stderr
