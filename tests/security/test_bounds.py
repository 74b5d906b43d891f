"""Time and memory bounds through the real az against the hostile server (loopback HTTPS, trusted by name):
--paginate ends on pages that bring nothing and with --max-pages; --max-retry-wait is a total for the command;
certificate and DNS failures are not retried; JSON answers and gzip bombs stop at 256 MiB with a pointer to
--output-file (their memory: tests/security/test_memory.py)."""
import json

import pytest

from emulator.directory import TENANT_A
from hostile_server import HostileServer
from security_support import error_lines, hostile_env, warning_lines

TENANT = ["--tenant", TENANT_A]


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(max_seconds=900, max_requests=400, bomb_size=1 << 30) as server:
        yield server


@pytest.fixture
def run(sp_env, emulator, hostile, tmp_path):
    extra = hostile_env(emulator, hostile, tmp_path)

    def az(behaviour, *args):
        return sp_env.az("devops-rest", "call", "--org", hostile.url(behaviour), "--path", "_apis/x", *TENANT, *args,
                         env=extra)
    return az


def test_max_pages_stops_endless_pages_with_a_warning(run):
    result = run("endless-pages", "--paginate", "--max-pages", "3", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["value"]) == 3
    assert any("--max-pages 3" in line for line in warning_lines(result.stderr))


@pytest.mark.parametrize("extra", [[], ["--max-items", "5"]])
def test_pages_that_bring_nothing_end_paging(run, hostile, extra):
    before = len(hostile.log)
    result = run("endless-empty-pages", "--paginate", *extra, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["value"] == []
    assert any("20 pages in a row brought no items" in line for line in warning_lines(result.stderr))
    assert len(hostile.log) - before == 20


@pytest.mark.parametrize("args, words", [(["--max-pages", "0"], "--max-pages must be 1 or more"),
                                         (["--max-pages", "2"], "--max-pages applies to --paginate")])
def test_max_pages_is_checked(run, args, words):
    result = run("ok", *args)
    assert result.returncode == 1 and words in error_lines(result.stderr)[0]


def test_max_retry_wait_is_a_total_for_the_command(run):
    result = run("throttle-pages", "--paginate", "--max-retry-wait", "2.5")
    waits = [line for line in warning_lines(result.stderr) if "retrying in" in line]
    assert 1 <= len(waits) <= 2, result.stderr  # five pages would each wait a second with a budget per request
    assert result.returncode == 1 and "503" in error_lines(result.stderr)[0]


def test_an_untrusted_certificate_is_not_retried(sp_env, emulator, hostile, tmp_path):
    extra = hostile_env(emulator, hostile, tmp_path, trust_ca=False)
    before = len(hostile.log)
    result = sp_env.az("devops-rest", "call", "--org", hostile.url("ok"), "--path", "_apis/x", *TENANT, env=extra)
    (line,) = error_lines(result.stderr)
    assert "TLS certificate was not trusted" in line and "attempts" not in line
    assert not [w for w in warning_lines(result.stderr) if "retrying" in w]
    assert len(hostile.log) == before  # the handshake failed: no request was ever read


UNRESOLVABLE = "dns-fails.example"
# Put on az's PYTHONPATH: its getaddrinfo fails for one made-up host (as a resolver does for a name that does not
# exist, EAI_NONAME) and counts the calls; every other name resolves as usual. No DNS query leaves the machine.
FAILING_RESOLVER = """
import os
import socket

_HOST = os.environ["DEVOPS_TOKEN_TEST_UNRESOLVABLE"]
_CALLS = os.environ["DEVOPS_TOKEN_TEST_RESOLVER_CALLS"]
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.rstrip(".").lower() == _HOST:
        with open(_CALLS, "a", encoding="utf-8") as calls:
            calls.write(name + "\\n")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
"""


def test_a_host_name_that_does_not_resolve_is_not_retried(sp_env, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAILING_RESOLVER)
    calls = tmp_path / "getaddrinfo-calls.txt"
    direct = "127.0.0.1,localhost," + UNRESOLVABLE  # resolved here, not handed to the emulator's proxy
    extra = {"PYTHONPATH": str(site), "DEVOPS_TOKEN_TEST_UNRESOLVABLE": UNRESOLVABLE,
             "DEVOPS_TOKEN_TEST_RESOLVER_CALLS": str(calls), "AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": UNRESOLVABLE,
             "NO_PROXY": direct, "no_proxy": direct}
    result = sp_env.az("devops-rest", "call", "--org", "https://%s/contoso" % UNRESOLVABLE, "--path", "_apis/projects",
                       *TENANT, env=extra)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    assert "the host name could not be resolved" in line and UNRESOLVABLE in line and "attempts" not in line
    assert not [w for w in warning_lines(result.stderr) if "retry" in w]
    assert calls.read_text().splitlines() == [UNRESOLVABLE]  # asked once: no retry


@pytest.mark.parametrize("behaviour", ["endless-body", "gzip-bomb"])
def test_a_json_answer_over_256_mib_stops_with_a_pointer_to_output_file(run, behaviour):
    result = run(behaviour)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    (line,) = error_lines(result.stderr)
    assert "larger than 256 MiB (decompressed)" in line and "--output-file" in result.stderr


@pytest.fixture(scope="module")
def trickling():
    with HostileServer(max_seconds=900, max_requests=50, trickle_interval=0.5) as server:
        yield server


@pytest.mark.parametrize("behaviour, extra", [("trickle-headers", []), ("trickle-body", []),
                                              ("trickle-body", ["--output-file", "{tmp}/out.json"])])
def test_a_trickling_answer_ends_at_the_request_deadline(sp_env, emulator, trickling, tmp_path, behaviour, extra):
    """--timeout 2 bounds each read; the deadline (twice connect plus read, at least 10 s) bounds the request,
    while the server would take minutes at one byte every half second (retries: tests/security/test_deadlines)."""
    extra = [arg.replace("{tmp}", str(tmp_path)) for arg in extra]
    served = len(trickling.log)
    result = sp_env.az("devops-rest", "call", "--org", trickling.url(behaviour), "--path", "_apis/x", *TENANT,
                       "--timeout", "2", "--max-retries", "0", *extra, env=hostile_env(emulator, trickling, tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    assert "did not finish answering within 10 s" in line
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "out.json").exists()
    assert not any(e["trickled_all"] for e in trickling.log[served:])  # az hung up before the answer ended
