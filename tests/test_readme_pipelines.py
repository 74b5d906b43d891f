"""The README's pipeline recipes: valid YAML with the settings the extension relies on (id-token: write, the
SYSTEM_ACCESSTOKEN mapping, a workload identity service connection), and the same git helper line as the README's
git section, whose command exists."""
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELPER_LINE = "git config --global credential.https://dev.azure.com.helper '!az devops-token git-credential'"


def _recipe(heading, language):
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    section = text.split("### " + heading, 1)[1].split("\n#", 1)[0]
    return re.search(r"```%s\n(.*?)```" % language, section, re.S).group(1)


def test_azure_pipelines_recipe():
    (step,) = yaml.safe_load(_recipe("Azure Pipelines: AzureCLI@2", "yaml"))["steps"]
    assert step["task"] == "AzureCLI@2" and step["inputs"]["scriptType"] == "bash"
    assert step["inputs"]["scriptLocation"] == "inlineScript" and step["inputs"]["azureSubscription"]
    assert step["env"] == {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"}
    assert HELPER_LINE in step["inputs"]["inlineScript"].splitlines()


def test_github_actions_recipe():
    workflow = yaml.safe_load(_recipe("GitHub Actions: azure/login", "yaml"))
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["devops"]["steps"]
    (login,) = [s for s in steps if s.get("uses", "").startswith("azure/login@")]
    assert {"client-id", "tenant-id"} <= set(login["with"]) and "client-secret" not in login["with"]
    assert HELPER_LINE in steps[-1]["run"].splitlines()
    assert steps.index(login) < len(steps) - 1


@pytest.mark.parametrize("heading, language", [("A VM or self-hosted agent", "bash"),
                                               ("Azure Pipelines: AzureCLI@2", "yaml"),
                                               ("GitHub Actions: azure/login", "yaml")])
def test_each_recipe_installs_the_extension_and_uses_the_helper(heading, language):
    recipe = _recipe(heading, language)
    assert "az extension add --source devops_token-0.1.0-py3-none-any.whl -y" in recipe
    assert HELPER_LINE in recipe and "git clone https://dev.azure.com/" in recipe
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        git_section = handle.read().split("## Git:", 1)[1]
    assert "credential.https://dev.azure.com.helper '!az devops-token git-credential'" in git_section
