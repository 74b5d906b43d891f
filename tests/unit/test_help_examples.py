"""Every example in --help (and every az/git command line in the README) works when pasted as printed.

Shell-neutral examples (the default) are run through `bash -u` with history expansion on and failglob, in an
empty folder, with `az`, `git` and `curl` replaced by functions that record their argv: the argv bash produces
must equal the shlex split of the text (nothing expanded: no `$`, `!`, glob or brace). PowerShell is not
installable here (no `powershell`/`pwsh` package in the apt sources), so its rules are checked statically:
 - `$` expands inside double quotes and unquoted, and a backtick escapes, in PowerShell (about_Quoting_Rules);
   only single quotes are literal;
 - an unquoted `@name` is splatting and `{...}`, `(...)`, `;`, `,` are syntax in argument mode;
 - `az` is az.cmd on Windows: PowerShell passes arguments without spaces unquoted, so cmd re-parses `&|<>^`,
   and double quotes inside an argument are lost before PowerShell 7.3 (Azure/azure-cli
   doc/quoting-issues-with-powershell.md) — so no JSON in arguments: examples read JSON from '@file'.
Examples labelled "(bash)" or "(PowerShell)" are for that shell only: the bash ones must still run cleanly
under `bash -u`.
"""
import os
import re
import shlex
import subprocess

import pytest
import yaml
from knack.help_files import helps

import azext_devopstoken._help  # noqa: F401  (registers the help)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOCKED = ("az", "git", "curl")
PRELUDE = r"""set -o history -o histexpand
shopt -s failglob
exec 3>"$RECORD"
record() { local arg; printf '%s' "$1"; shift; for arg in "$@"; do printf '\037%s' "$arg"; done; printf '\036'; }
az() { record az "$@" >&3; }
git() { record git "$@" >&3; }
curl() { record curl "$@" >&3; }
"""
# Outside quotes: PowerShell syntax ($ ` { } ( ) ; , @ #), bash expansion ($ ! ` * ? [ ] { } \), cmd's &|<>^.
UNQUOTED_SPECIAL = set("$`{}();,!*?[]\\\"<>&^|")
DOUBLE_QUOTED_SPECIAL = set("$`!\\")  # expand or escape in bash or PowerShell double quotes
CMD_SPECIAL = set("&|<>^")  # re-parsed by cmd.exe (az.cmd) when PowerShell passes the argument unquoted


def help_examples():
    examples = []
    for entry_name in sorted(name for name in helps if name.split()[0] in ("devops-token", "devops-rest")):
        for example in yaml.safe_load(helps[entry_name]).get("examples") or []:
            label = "%s: %s" % (entry_name, example["name"][:40])
            examples.append(pytest.param(example["name"], example["text"], id=label))
    return examples


def readme_command_lines():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        blocks = re.findall(r"```(\w*)\n(.*?)```", handle.read(), re.S)
    lines = []
    for _, block in blocks:
        for line in block.replace("\\\n", "\\CONTINUATION ").splitlines():
            if line.startswith(("az devops-", "git config")):
                lines.append(line)
    return lines


def shell_of(example_name):
    for shell in ("bash", "PowerShell"):
        if "(%s)" % shell in example_name:
            return shell
    return "both"


def run_in_bash(text, tmp_path):
    """The argv of every mocked command the text runs in `bash -u`, and bash's stderr."""
    workdir = tmp_path / "empty"
    workdir.mkdir(parents=True)
    record = tmp_path / "record"
    result = subprocess.run(["bash", "-u"], input=PRELUDE + text.rstrip("\n") + "\n", capture_output=True,
                            text=True, cwd=workdir, env={"PATH": os.environ["PATH"], "RECORD": str(record)},
                            timeout=60, check=False)
    recorded = record.read_text() if record.exists() else ""
    calls = [entry.split("\x1f") for entry in recorded.split("\x1e") if entry]
    return calls, result.returncode, result.stderr


def expected_calls(text):
    """The argv of each mocked command, split as written, with nothing expanded."""
    calls = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|;&")
        lexer.whitespace_split = True
        lexer.commenters = ""
        command = []
        for token in list(lexer) + ["|"]:
            if token in ("|", ";", "&&", "||"):
                if command and command[0] in MOCKED:
                    calls.append(command)
                command = []
            else:
                command.append(token)
    return calls


def portability_problems(line):
    """Why ``line`` would not reach az the same in bash and PowerShell (empty: it would)."""
    problems = []
    i, token_start = 0, True
    while i < len(line):
        ch = line[i]
        if ch in "'\"":
            end = line.find(ch, i + 1)
            if end < 0:
                return problems + ["unbalanced %s" % ch]
            content = line[i + 1:end]
            expanding = "".join(sorted(set(content) & DOUBLE_QUOTED_SPECIAL))
            if ch == '"' and expanding:
                problems.append('"%s": %s inside double quotes' % (content, expanding))
            if ch == "'" and '"' in content:
                problems.append("'%s': double quotes inside an argument are lost by PowerShell < 7.3" % content)
            if set(content) & CMD_SPECIAL:
                problems.append("%s: cmd.exe re-parses %s" % (content, "".join(set(content) & CMD_SPECIAL)))
            i, token_start = end + 1, False
            continue
        if ch in " \t":
            i, token_start = i + 1, True
            continue
        if ch == "|" and token_start and line[i + 1:i + 2] == " ":  # a pipeline between commands
            i += 1
            continue
        if ch in UNQUOTED_SPECIAL or (token_start and ch in "@#"):
            problems.append("unquoted %s at column %d" % (ch, i + 1))
        i, token_start = i + 1, False
    return problems


@pytest.mark.parametrize("name, text", help_examples())
def test_help_example_runs_in_bash_as_printed(name, text, tmp_path):
    if shell_of(name) == "PowerShell":
        pytest.skip("PowerShell only (no PowerShell here); checked statically elsewhere")
    calls, code, stderr = run_in_bash(text, tmp_path)
    assert code == 0 and stderr == "", stderr
    if shell_of(name) == "both":
        assert calls == expected_calls(text)
    assert calls, "the example ran no az/git/curl command"


@pytest.mark.parametrize("name, text", help_examples())
def test_help_example_is_portable_to_powershell(name, text):
    if shell_of(name) != "both":
        pytest.skip("labelled for one shell")
    for line in text.splitlines():
        assert portability_problems(line) == [], line


def test_examples_for_one_shell_come_in_pairs():
    names = [param.values[0] for param in help_examples()]
    assert len(names) >= 20  # the parametrized tests above are not vacuous
    bash = {name.replace("(bash)", "") for name in names if shell_of(name) == "bash"}
    powershell = {name.replace("(PowerShell)", "") for name in names if shell_of(name) == "PowerShell"}
    assert bash == powershell and len(bash) >= 4


@pytest.mark.parametrize("line", readme_command_lines())
def test_readme_command_runs_in_bash_and_is_portable(line, tmp_path):
    assert "\\CONTINUATION" not in line, "a \\ line continuation is bash-only: " + line
    command = line.split(" #")[0].rstrip()  # a trailing comment works in both shells
    calls, code, stderr = run_in_bash(command, tmp_path)
    assert code == 0 and stderr == "", stderr
    assert calls == expected_calls(command)
    assert portability_problems(command) == [], command


def test_readme_has_commands_to_check():
    assert len(readme_command_lines()) >= 10


# The checks fail on the examples this project shipped before (766ba80): they are not vacuous.
BASH_BREAKS = [
    'az devops-rest call --org contoso -p Fabrikam -m POST --path "{project}/_apis/wit/workitems/$Task" '
    '--body @new-task.json',
    'az devops-rest call --org contoso -p Fabrikam --path "{project}/_apis/build/builds/42/artifacts" '
    '--query-parameters artifactName=drop $format=zip --output-file drop.zip',
    "az devops-rest call --org contoso --path _apis/projects --query-parameters $top=5",
    'git config --global credential.https://dev.azure.com.helper "!az devops-token git-credential"',
]
POWERSHELL_BREAKS = BASH_BREAKS + [
    'az devops-rest call -m POST --path "{project}/_apis/wit/wiql" --body "{\\"query\\": \\"SELECT [System.Id] '
    "FROM WorkItems WHERE [System.State] = 'Active'\\\"}\"",
    # README, bash-only: JSON in single quotes loses its double quotes in Windows PowerShell
    "az devops-rest call -m POST --path '{project}/_apis/wit/workitems/$Task' "
    "--body '[{\"op\": \"add\", \"path\": \"/fields/System.Title\", \"value\": \"x\"}]'",
]


@pytest.mark.parametrize("text", BASH_BREAKS)
def test_the_old_examples_fail_in_bash(text, tmp_path):
    calls, code, stderr = run_in_bash(text, tmp_path)
    assert calls != expected_calls(text) or code != 0 or stderr


@pytest.mark.parametrize("text", POWERSHELL_BREAKS)
def test_the_old_examples_fail_the_powershell_rules(text):
    assert portability_problems(text)


def test_history_expansion_and_unbound_variables_are_caught(tmp_path):
    # "!az" recalls the last history line starting with az (here the mock's definition), or is "event not found"
    calls, _, stderr = run_in_bash('git config x "!az y"', tmp_path / "a")
    assert stderr and calls != [["git", "config", "x", "!az y"]]
    calls, _, stderr = run_in_bash("git config x '!az y'", tmp_path / "c")
    assert not stderr and calls == [["git", "config", "x", "!az y"]]
    _, _, stderr = run_in_bash("az x $top=5", tmp_path / "b")
    assert "unbound variable" in stderr
