"""The deadline per request through the real az against the hostile server (loopback HTTPS, trusted by name):
it holds through an HTTPS proxy (the CONNECT tunnel's socket is what the deadline shuts down), and a request past
its deadline is asked again for idempotent methods, within --max-retries, while a POST is not."""
import json
import threading
import uuid

import pytest

from emulator.directory import TENANT_A
from emulator.proxy import PROXY_LISTENER, LoopbackProxy
from hostile_server import HostileServer
from security_support import error_lines, hostile_env, warning_lines

TENANT = ["--tenant", TENANT_A]
DEADLINE = "did not finish answering within 10 s"  # --timeout 2: twice connect plus read, at least 10 s


@pytest.fixture(scope="module")
def trickling():
    with HostileServer(max_seconds=900, max_requests=100, trickle_interval=0.5) as server:
        yield server


@pytest.fixture
def proxy(emulator, trickling):
    """A loopback proxy (the emulator's kind, logging to the emulator's log) that tunnels to the hostile server
    addressed as localhost, and where the emulator's own proxy does (MSAL < 1.21's instance discovery, az 2.45);
    127.0.0.1 (the emulator, for the token) stays direct."""
    routes = dict(emulator.proxy.routes, **{"localhost:%d" % trickling.port: trickling.port})
    # Idle tunnels are kept for longer than az is given (180 s): only az's own deadline can end a trickle early.
    server = LoopbackProxy(emulator, routes, idle_seconds=600)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _tunnels(emulator, proxy, since):
    return [e for e in emulator.log.entries(listener=PROXY_LISTENER)[since:] if e["port"] == proxy.server_address[1]]


@pytest.mark.parametrize("behaviour", ["trickle-headers", "trickle-body"])
def test_a_trickling_answer_through_a_proxy_ends_at_the_request_deadline(sp_env, emulator, trickling, proxy,
                                                                         tmp_path, behaviour):
    extra = hostile_env(emulator, trickling, tmp_path)
    destination = "localhost:%d" % trickling.port
    extra.update({"HTTPS_PROXY": proxy.url, "https_proxy": proxy.url, "NO_PROXY": "127.0.0.1",
                  "no_proxy": "127.0.0.1", "AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": destination})
    before, served = len(emulator.log.entries(listener=PROXY_LISTENER)), len(trickling.log)
    result = sp_env.az("devops-rest", "call", "--org", "https://%s/%s" % (destination, behaviour), "--path",
                       "_apis/x", *TENANT, "--timeout", "2", "--max-retries", "0", env=extra)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    assert DEADLINE in line
    tunnels = [e for e in _tunnels(emulator, proxy, before) if e["host"] == destination]
    assert tunnels and all(e["method"] == "CONNECT" and e["status"] == 200 for e in tunnels)
    (entry,) = trickling.log[served:]  # the request came through the tunnel,
    assert entry["behaviour"] == behaviour and not entry["trickled_all"]  # and az hung up before the answer ended


def _call(env, emulator, server, tmp_path, behaviour, path, *args):
    return env.az("devops-rest", "call", "--org", server.url(behaviour), "--path", path, *TENANT, "--timeout", "2",
                  *args, env=hostile_env(emulator, server, tmp_path))


def _requests_to(server, path):
    return [e for e in server.log if e["path"].split("?")[0].endswith(path)]


@pytest.mark.parametrize("behaviour", ["trickle-once-headers", "trickle-once-body"])
def test_a_get_past_its_deadline_is_asked_again(sp_env, emulator, trickling, tmp_path, behaviour):
    path = "_apis/retried-%s" % uuid.uuid4().hex
    result = _call(sp_env, emulator, trickling, tmp_path, behaviour, path, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["value"] == ["answered on the second attempt"]
    (warning,) = [w for w in warning_lines(result.stderr) if "retry" in w]
    assert "retry 1 of 4" in warning
    assert [e["method"] for e in _requests_to(trickling, path)] == ["GET", "GET"]


@pytest.mark.parametrize("behaviour", ["trickle-once-headers", "trickle-once-body"])
def test_a_post_past_its_deadline_is_not_asked_again(sp_env, emulator, trickling, tmp_path, behaviour):
    path = "_apis/posted-%s" % uuid.uuid4().hex
    result = _call(sp_env, emulator, trickling, tmp_path, behaviour, path, "--method", "POST", "--body", "{}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    assert DEADLINE in line and "attempts" not in line
    assert not [w for w in warning_lines(result.stderr) if "retry" in w]
    assert [e["method"] for e in _requests_to(trickling, path)] == ["POST"]


@pytest.mark.parametrize("behaviour", ["trickle-headers", "trickle-body"])
def test_a_get_that_always_trickles_ends_after_its_retries(sp_env, emulator, trickling, tmp_path, behaviour):
    path = "_apis/always-%s" % uuid.uuid4().hex
    result = _call(sp_env, emulator, trickling, tmp_path, behaviour, path, "--max-retries", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    assert DEADLINE + " (2 attempts)" in line
    assert len([w for w in warning_lines(result.stderr) if "retry 1 of 1" in w]) == 1
    assert len(_requests_to(trickling, path)) == 2
