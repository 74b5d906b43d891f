"""azdev's help rules, checked on the real command table: every group, command and parameter has help, every
command has examples that start with `az`, the YAML parses, `-h` renders, and no parameter is positional."""
import pytest
import yaml
from knack.help_files import helps

import azext_devopstoken._help  # noqa: F401  (registers the help)

OUR_GROUPS = ("devops-token", "devops-rest")


def our_entries():
    return sorted(name for name in helps if name.split()[0] in OUR_GROUPS)


def test_every_help_entry_is_valid_yaml_with_summaries():
    assert len(our_entries()) >= 9  # 2 groups, the git-credential group, 6 commands: the loop is not vacuous
    for name in our_entries():
        entry = yaml.safe_load(helps[name])
        assert entry["type"] in ("group", "command"), name
        assert entry.get("short-summary"), name


@pytest.fixture(scope="module")
def command_table():
    from azure.cli.core import get_default_cli
    from azext_devopstoken import DevOpsTokenCommandsLoader
    loader = DevOpsTokenCommandsLoader(cli_ctx=get_default_cli())
    loader.skip_applicability = True  # load every command's arguments, as azdev's linter does
    table = loader.load_command_table(None)
    for name in table:
        loader.command_name = name
        loader.load_arguments(name)
        table[name].load_arguments()
        table[name].arguments.update(loader.argument_registry.arguments.get(name, {}))
    return loader, table


def test_every_command_has_help_and_runnable_examples(command_table):
    _, table = command_table
    for name in table:
        assert name in helps, name
        entry = yaml.safe_load(helps[name])
        examples = entry.get("examples") or []
        assert examples, "%s has no examples" % name
        starts = ("az ", "git ", "printf ", "token=", "$token", "\"protocol=", "'{")
        for example in examples:
            assert example["name"] and example["text"].strip().splitlines()[0].startswith(starts), name
    groups = {" ".join(name.split()[:-1]) for name in table}
    assert groups <= set(helps), groups - set(helps)


def test_every_parameter_has_help_and_no_positionals(command_table):
    loader, table = command_table
    assert len(loader.argument_registry.arguments["devops-rest call"]) >= 17  # the check below is not vacuous
    for name in table:
        registered = loader.argument_registry.arguments.get(name, {})
        for dest, argument in registered.items():
            settings = argument.settings
            assert settings.get("help"), "%s %s has no help" % (name, dest)
            options = settings.get("options_list") or []
            assert options and all(option.startswith("-") for option in options), (name, dest)
            long_options = [option for option in options if option.startswith("--")]
            assert all("_" not in option for option in long_options), (name, options)
            assert any(len(option) <= 22 for option in options), (name, options)


@pytest.mark.parametrize("name", ["devops-token", "devops-token get", "devops-token whoami",
                                  "devops-token git-credential", "devops-token git-credential get",
                                  "devops-token git-credential store", "devops-token git-credential erase",
                                  "devops-rest", "devops-rest call", "devops-rest batch"])
def test_help_renders(az, name):
    result = az(*(name.split() + ["-h"]))
    assert result.exit_code == 0, result
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr
