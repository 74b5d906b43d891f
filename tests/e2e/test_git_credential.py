"""`az devops-token git-credential` with the real git client against the emulator's Azure Repos
(smart HTTP served by `git http-backend`)."""
import os
import subprocess
import time

import pytest

from az_support import claims, devops_requests
from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.directory import TENANT_A


@pytest.fixture
def git_env(sp_env, emulator, tmp_path):
    """An az login (service principal) whose default organization is the emulator's contoso, and a git with an
    isolated global config whose credential helper for that host is this extension."""
    env = sp_env.copy(str(tmp_path / "config"))
    env.az("config", "set", "defaults.devops_organization=" + emulator.org_url("contoso"), check=True)
    home = tmp_path / "home"
    home.mkdir()
    git = dict(env.env, HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@example.invalid", GIT_COMMITTER_NAME="ci",
               GIT_COMMITTER_EMAIL="ci@example.invalid", GIT_SSL_CAINFO=emulator.ca_bundle)
    helper = "!%s devops-token git-credential" % env.az_path
    for key, value in (("credential.%s.helper" % emulator.devops_url, helper),
                       ("http.sslCAInfo", emulator.ca_bundle), ("init.defaultBranch", "main")):
        subprocess.run(["git", "config", "--global", key, value], env=git, check=True)
    return env, git


def run_git(git, *args, cwd=None, input_text=None):
    return subprocess.run(["git", *args], env=git, cwd=cwd, capture_output=True, text=True, timeout=120,
                          input=input_text, check=False)


def test_git_credential_fill_gets_a_fresh_token(git_env, emulator, devops):
    _, git = git_env
    host = emulator.devops_url.split("://", 1)[1]
    result = run_git(git, "credential", "fill", input_text="protocol=https\nhost=%s\npath=contoso/Website/_git/"
                     "Website\n\n" % host)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert fields["username"] == "devops-token" and fields["host"] == host
    token = claims(fields["password"])
    assert token["aud"] == AZURE_DEVOPS_RESOURCE and token["tid"] == TENANT_A


def test_helper_answers_with_the_expiry(git_env, emulator, devops):
    env, _ = git_env
    host = emulator.devops_url.split("://", 1)[1]
    result = env.az("devops-token", "git-credential", "get", input="protocol=https\nhost=%s\nusername=me\n\n" % host)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["username", "password", "password_expiry_utc"]
    fields = dict(line.split("=", 1) for line in lines)
    assert fields["username"] == "me"
    # git (2.41+) drops the password at this time, so an expired token is never reused
    assert abs(int(fields["password_expiry_utc"]) - claims(fields["password"])["exp"]) <= 5
    assert int(fields["password_expiry_utc"]) > time.time() + 600


def test_clone_and_push_with_no_pat(git_env, emulator, devops, tmp_path):
    _, git = git_env
    url = emulator.org_url("contoso") + "/Website/_git/Website"
    clone = run_git(git, "clone", url, str(tmp_path / "Website"))
    assert clone.returncode == 0, clone.stderr
    assert "Served by the devops-token emulator" in (tmp_path / "Website" / "README.md").read_text()
    git_requests = [e for e in devops_requests(emulator) if "/_git/" in e["path"]]
    anonymous = [e for e in git_requests if "authorization" not in e["headers"]]
    signed = [e for e in git_requests if "authorization" in e["headers"]]
    assert anonymous and {e["status"] for e in anonymous} == {401}  # git asks the helper only after a 401
    assert len(signed) >= 2 and {e["status"] for e in signed} == {200}
    assert all(e["headers"]["authorization"].startswith("Basic ") for e in signed)
    (tmp_path / "Website" / "CHANGES.md").write_text("pushed with an Entra token\n")
    run_git(git, "add", "CHANGES.md", cwd=str(tmp_path / "Website"))
    run_git(git, "commit", "-q", "-m", "Push through devops-token", cwd=str(tmp_path / "Website"))
    push = run_git(git, "push", "origin", "HEAD", cwd=str(tmp_path / "Website"))
    assert push.returncode == 0, push.stderr
    again = run_git(git, "clone", url, str(tmp_path / "again"))
    assert again.returncode == 0 and (tmp_path / "again" / "CHANGES.md").exists()


@pytest.mark.parametrize("request_text", [
    "protocol=http\nhost=dev.azure.com\npath=contoso/x/_git/x\n\n",
    "protocol=https\nhost=github.com\npath=cli/cli\n\n",
    "protocol=https\nhost=dev.azure.com.evil.example\n\n",
])
def test_not_ours_gets_no_answer(git_env, request_text):
    env, _ = git_env
    result = env.az("devops-token", "git-credential", "get", input=request_text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("action", ["store", "erase"])
def test_store_and_erase_are_harmless(git_env, action):
    env, _ = git_env

    def snapshot():
        files = {}
        for folder, _, names in os.walk(env.config_dir):
            for name in names:
                path = os.path.join(folder, name)
                if not path.startswith(os.path.join(env.config_dir, "commands")):  # az's own command log
                    with open(path, "rb") as handle:
                        files[path] = handle.read()
        return files
    before = snapshot()
    result = env.az("devops-token", "git-credential", action,
                    input="protocol=https\nhost=dev.azure.com\nusername=x\npassword=secret-from-git\n\n")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    after = snapshot()
    assert after == before  # nothing stored, nothing removed
    assert not any(b"secret-from-git" in content for content in after.values())
