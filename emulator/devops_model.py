"""Kept only for ``tests/unit/test_call.py`` (reshaped on another branch), which imports ``artifact_sha256``
from here: the artifact now lives in :mod:`emulator.devops.artifacts`. Remove once that import moves."""
from emulator.devops.artifacts import artifact_sha256  # noqa: F401  pylint: disable=unused-import
