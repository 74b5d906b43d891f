"""Memory bounds through the real az, measured by the kernel: the az process's peak resident memory (ru_maxrss,
read by a small wrapper process) while a gzip bomb is refused, and while 512 MiB stream to stdout or to
--output-file. The bounds are memory bounds, not timings: an az holding the body would need at least its size
(512 MiB; 1 GiB for the bomb, which urllib3 < 2.6 inflates in one read)."""
import hashlib
import json

import pytest

from emulator.directory import TENANT_A
from hostile_server import HostileServer, large_body_digest
from security_support import az_measured, error_lines, hostile_env

TENANT = ["--tenant", TENANT_A]
LARGE = 512 * 1024 * 1024
STREAM_RSS_MIB = 128       # az itself and its buffers (about 45 MiB): far below the body
BOMB_RSS_MIB = 400         # the 256 MiB JSON bound and az itself (about 310 MiB): far below the bomb


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(max_seconds=900, max_requests=50, bomb_size=1 << 30) as server:
        yield server


def _call(env, emulator, hostile, tmp_path, behaviour, *args):
    return az_measured(env, "devops-rest", "call", "--org", hostile.url(behaviour), "--path", "_apis/x", *TENANT,
                       *args, extra_env=hostile_env(emulator, hostile, tmp_path))


def test_a_gzip_bomb_ends_in_the_too_large_error_in_bounded_memory(sp_env, emulator, hostile, tmp_path):
    result = _call(sp_env, emulator, hostile, tmp_path, "gzip-bomb")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    (line,) = error_lines(result.stderr)
    assert "larger than 256 MiB (decompressed)" in line and "--output-file" in result.stderr
    assert result.stdout_bytes == 0
    assert result.peak_rss_mib < BOMB_RSS_MIB, result.peak_rss_mib


def test_a_gzip_bomb_on_a_batch_line_is_that_line_s_error_in_bounded_memory(sp_env, emulator, hostile, tmp_path):
    lines = tmp_path / "requests.jsonl"
    lines.write_text('{"id": "bomb", "path": "_apis/x"}\n')
    result = az_measured(sp_env, "devops-rest", "batch", "--org", hostile.url("gzip-bomb"), "--input", str(lines),
                         *TENANT, extra_env=hostile_env(emulator, hostile, tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    (answer,) = [json.loads(line) for line in result.stdout_head.decode("utf-8").splitlines()]
    assert answer["id"] == "bomb" and answer["errorKind"] == "network", answer
    assert "larger than 256 MiB (decompressed)" in answer["error"]
    assert error_lines(result.stderr) == ["ERROR: 1 line: 0 succeeded, 1 failed."]
    assert result.peak_rss_mib < BOMB_RSS_MIB, result.peak_rss_mib


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_512_mib_stream_to_stdout_in_constant_memory(sp_env, emulator, hostile, tmp_path, kind):
    result = _call(sp_env, emulator, hostile, tmp_path, "large-body", "--query-parameters", "size=%d" % LARGE,
                   "kind=%s" % kind)
    assert result.returncode == 0 and not error_lines(result.stderr), result.stderr[-2000:]
    assert result.stdout_bytes == LARGE and result.stdout_sha256 == large_body_digest(LARGE, kind)
    assert result.peak_rss_mib < STREAM_RSS_MIB, result.peak_rss_mib


def test_512_mib_stream_to_an_output_file_in_constant_memory(sp_env, emulator, hostile, tmp_path):
    target = tmp_path / "large.bin"
    result = _call(sp_env, emulator, hostile, tmp_path, "large-body", "--query-parameters", "size=%d" % LARGE,
                   "--output-file", str(target))
    try:
        assert result.returncode == 0 and not error_lines(result.stderr), result.stderr[-2000:]
        assert result.stdout_bytes == 0 and target.stat().st_size == LARGE
        digest = hashlib.sha256()
        with open(target, "rb") as written:
            for block in iter(lambda: written.read(1 << 20), b""):
                digest.update(block)
        assert digest.hexdigest() == large_body_digest(LARGE, "binary")
        assert result.peak_rss_mib < STREAM_RSS_MIB, result.peak_rss_mib
    finally:
        target.unlink(missing_ok=True)
