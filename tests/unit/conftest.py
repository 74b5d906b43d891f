"""In-process command tests: the real azure-cli-core command machinery, the extension loaded from this
source tree through az's dev-extension mechanism, and a throwaway config dir.

az reads AZURE_CONFIG_DIR when azure.cli.core is first imported, so the environment is set here,
at collection, before any test imports it.
"""
import io
import os
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TMP = tempfile.mkdtemp(prefix="devops-token-inprocess-")


def _dev_extension_source():
    """<tmp>/dev/devops-token/{azext_devopstoken -> source, devops_token.egg-info}: az names a dev extension
    after the folder holding its egg-info, so the folder is named like the installed extension."""
    ext_root = os.path.join(_TMP, "dev", "devops-token")
    os.makedirs(ext_root)
    os.symlink(os.path.join(REPO, "azext_devopstoken"), os.path.join(ext_root, "azext_devopstoken"))
    subprocess.run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", ext_root], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return os.path.dirname(ext_root)


for _name in [k for k in os.environ if k.startswith(("AZURE_", "IDENTITY_", "MSI_"))]:
    del os.environ[_name]
os.environ.update({
    "AZURE_CONFIG_DIR": os.path.join(_TMP, "config"),
    "AZURE_EXTENSION_DIR": os.path.join(_TMP, "extensions"),
    "AZURE_EXTENSION_DEV_SOURCES": _dev_extension_source(),
    "AZURE_CORE_COLLECT_TELEMETRY": "false",
    "AZURE_CORE_NO_COLOR": "true",
    # The hosts in-process tests use as Azure DevOps Server collections may receive the token (_trust).
    "AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": "tfs.example.com tfs.example.com:8443 127.0.0.1:8443 127.0.0.1:9443",
})


class AzResult:
    def __init__(self, exit_code, stdout, stderr):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    @property
    def error_lines(self):
        return [line for line in self.stderr.splitlines() if line.startswith("ERROR:")]

    def __repr__(self):
        return "AzResult(exit_code=%r, stdout=%r, stderr=%r)" % (self.exit_code, self.stdout, self.stderr)


def _reset_logging():
    """knack configures console logging only when the root logger has no handler, bound to the sys.stderr of
    that moment; drop the handlers so each run binds to the stderr this test captures."""
    import logging
    from knack.log import cli_logger_names
    for name in [None] + list(cli_logger_names):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


@pytest.fixture
def az(capsys):
    """Run one az command in-process: az("devops-token", "get") -> AzResult."""
    from azure.cli.core import get_default_cli

    def run(*args):
        capsys.readouterr()
        _reset_logging()
        out = io.StringIO()
        cli = get_default_cli()
        try:
            exit_code = cli.invoke(list(args), out_file=out)
        except SystemExit as ex:  # help and argparse errors exit
            exit_code = ex.code
        captured = capsys.readouterr()
        return AzResult(exit_code, out.getvalue() + captured.out, captured.err)
    return run
