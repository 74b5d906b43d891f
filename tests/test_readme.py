"""The README's promise: exactly two set-up commands at the top, and the first one (the demo) works."""
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _first_code_block():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    return re.search(r"```bash\n(.*?)```", text, re.S).group(1)


def test_readme_starts_with_the_two_commands():
    commands = [line.split("#")[0].strip() for line in _first_code_block().splitlines() if line.strip()]
    assert commands == ["./scripts/demo", "./scripts/test"]
    ci = open(os.path.join(REPO, ".ci", "run"), encoding="utf-8").read()
    assert "./scripts/test" in ci


def test_demo_runs_the_main_job():
    result = subprocess.run([os.path.join(REPO, "scripts", "demo")], capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "$ az devops-token get" in result.stdout
    assert "aud=499b84ac-1321-427f-aa17-267ca6975798" in result.stdout
    assert "260 projects" in result.stdout and "Azure DevOps sees: ci-bot" in result.stdout
    assert result.stdout.rstrip().endswith("demo: OK (emulator stopped, throwaway config dir removed)")
