"""Helpers shared by the security and reliability tests (tests/security).

These tests drive the real ``az`` exactly as tests/e2e does: the same fixtures (tests/conftest.py) and helpers
(tests/az_support.py).
"""
import os
import subprocess
import time

from az_support import (claims, devops_requests, error_lines, is_tenant_probe,  # noqa: F401  (re-exported)
                        replace_devops_handler)
from emulator.constants import DEVOPS_HOSTS


def warning_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("WARNING:")]


def timed(env, *args, **kwargs):
    """``env.az(*args)`` and the seconds it took."""
    started = time.monotonic()
    result = env.az(*args, **kwargs)
    return result, time.monotonic() - started


def az_binary(env, *args, extra_env=None):
    """az with stdout and stderr as bytes (every byte is scanned, whatever its encoding)."""
    run_env = dict(env.env)
    run_env.update(extra_env or {})
    return subprocess.run([env.az_path, *args], capture_output=True, env=run_env, cwd=env.config_dir,
                          stdin=subprocess.DEVNULL, timeout=180, check=False)


def rest_call(env, emulator, *args, org="contoso", **kwargs):
    return env.az("devops-rest", "call", "--org", emulator.org_url(org), *args, **kwargs)


def api_entries(emulator, since=0):
    """Request-log entries on the Azure DevOps hosts (probes included), from index ``since`` on."""
    return [e for e in emulator.log.entries()[since:] if e["listener"] in DEVOPS_HOSTS
            and not e["path"].startswith("/_emulator")]


def bearer(entry):
    """The token an entry carried in ``Authorization: Bearer …``, or None."""
    value = entry["headers"].get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def hostile_env(emulator, server, tmp_path, trust_ca=True, trust_host=True):
    """Extra az environment for a test against a HostileServer: its CA next to the emulator's in REQUESTS_CA_BUNDLE
    (unless ``trust_ca`` is False: then its certificate is untrusted) and its 127.0.0.1:port trusted by name."""
    bundle = tmp_path / "ca-bundle.pem"
    with open(emulator.ca_bundle, encoding="utf-8") as emulator_ca, open(server.ca_bundle, encoding="utf-8") as own:
        bundle.write_text(emulator_ca.read() + (own.read() if trust_ca else ""))
    return {"REQUESTS_CA_BUNDLE": str(bundle),
            "AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": "127.0.0.1:%d" % server.port if trust_host else ""}


def fresh_login(ext_template, path, key="ci-bot"):
    """A config dir of its own with a new service principal login: no Azure DevOps token cached yet."""
    env = ext_template.copy(str(path))
    env.login_service_principal(key)
    return env


class PlainHttpCapture:
    """A plain-http (no TLS) listener on 127.0.0.1 that records every request's raw bytes and answers ``{}``:
    whatever is sent to an http:// URL can be read back byte for byte."""

    def __init__(self):
        import socketserver
        import threading
        self.requests = []
        capture = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.connection.settimeout(10)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.connection.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                capture.requests.append(head)
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                                 b"Connection: close\r\n\r\n{}")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


HEAD_BYTES = 64 * 1024


class Measured:  # pylint: disable=too-few-public-methods
    """What :func:`az_measured` saw: exit code, stderr, stdout's size, sha256 and first 64 KiB, and az's peak RSS
    in MiB."""

    def __init__(self, returncode, stderr, stdout_bytes, stdout_sha256, peak_rss_mib, stdout_head=b""):
        self.returncode = returncode
        self.stderr = stderr
        self.stdout_bytes = stdout_bytes
        self.stdout_sha256 = stdout_sha256
        self.peak_rss_mib = peak_rss_mib
        self.stdout_head = stdout_head


# Runs az and writes its peak RSS (KiB) to a file. A fresh, small process of its own: a child's ru_maxrss starts from
# the resident size of the process it was forked (or vforked) from, so az started straight from pytest would report
# pytest's peak instead of its own whenever pytest is the larger.
_PEAK_RSS_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w", encoding="ascii") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def az_measured(env, *args, extra_env=None, timeout=300):
    """Run az, consuming its stdout as it comes (counted and hashed, never held), and measure its peak resident
    memory as the kernel accounts it (ru_maxrss of az, the only child of a small wrapper)."""
    import hashlib
    import sys
    import tempfile
    import threading
    run_env = dict(env.env)
    run_env.update(extra_env or {})
    with tempfile.TemporaryDirectory(prefix="az-rss-") as folder:
        rss_file = os.path.join(folder, "peak-rss-kib")
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-c", _PEAK_RSS_WRAPPER, rss_file, env.az_path, *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=run_env, cwd=env.config_dir)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        stderr = []
        reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
        reader.start()
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            for chunk in iter(lambda: process.stdout.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                head = (head + chunk[:HEAD_BYTES])[:HEAD_BYTES]
            process.wait(60)
            reader.join(60)
        finally:
            killer.cancel()
            process.stdout.close()
            process.stderr.close()
        with open(rss_file, encoding="ascii") as measured:
            peak_kib = int(measured.read())
    return Measured(process.returncode, (stderr[0] if stderr else b"").decode("utf-8", "replace"), size,
                    digest.hexdigest(), peak_kib / 1024, head)
