"""`az devops-rest batch` through the real az (extension installed from the wheel) against the emulator."""
import json
import subprocess
import sys

from az_support import devops_requests, error_lines, max_in_flight
from emulator.entra.common import MANAGED_IDENTITY_PATH, MSI_EXTENSION_PATH

# A child that runs az and reports az's peak RSS (its RUSAGE_CHILDREN is az's alone, whatever ran before).
PEAK_RSS = ("import resource, subprocess, sys\n"
            "with open(sys.argv[1], 'rb') as stdin, open(sys.argv[2], 'wb') as stdout:\n"
            "    code = subprocess.run(sys.argv[3:], stdin=stdin, stdout=stdout, check=False).returncode\n"
            "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def jsonl(lines):
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def batch(env, emulator, lines, *args, org="contoso"):
    return env.az("devops-rest", "batch", "--org", emulator.org_url(org), "--input", "-", *args, input=jsonl(lines))


def results_of(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_results_in_input_order_with_bad_and_refused_lines(sp_env, emulator, devops):
    lines = [{"id": n, "path": "_apis/projects/{project}", "query": {"n": n}} for n in range(200)]
    lines[17] = '{"path": "_apis/projects",'                                    # not JSON
    lines[42] = {"id": "steal", "path": emulator.other_url + "/_apis/projects"}  # off the organization
    result = batch(sp_env, emulator, lines, "-p", "Website")
    assert result.returncode == 1
    results = results_of(result)
    assert [r["index"] for r in results] == list(range(200))
    assert results[17]["errorKind"] == "input" and results[17]["status"] is None
    assert results[42]["errorKind"] == "refused" and results[42]["id"] == "steal"
    assert "Refusing to send the Azure DevOps token" in results[42]["error"]
    others = [r for r in results if r["index"] not in (17, 42)]
    assert all(r["status"] == 200 and r["id"] == r["index"] and r["body"]["name"] == "Website" for r in others)
    assert error_lines(result.stderr) == ["ERROR: 200 lines: 198 succeeded, 2 failed."]
    assert len(devops_requests(emulator)) == 198 and emulator.log.entries(listener="other") == []
    assert "Traceback" not in result.stderr


def test_every_line_succeeds_exit_code_zero(sp_env, emulator, devops):
    result = batch(sp_env, emulator, [{"path": "_apis/projects", "query": {"$top": 2}}] * 5)
    assert result.returncode == 0, result.stderr
    assert [r["status"] for r in results_of(result)] == [200] * 5 and result.stderr == ""


def test_stop_on_error_stops_after_the_first_failure(sp_env, emulator, devops):
    lines = [{"path": "_apis/projects"}, {"path": "_apis/projects/no-such-project"}] + [{"path": "_apis/projects"}] * 50
    result = batch(sp_env, emulator, lines, "--parallel", "1", "--stop-on-error")
    assert result.returncode == 1
    results = results_of(result)
    assert [r["status"] for r in results[:2]] == [200, 404] and len(results) < 52
    assert len(devops_requests(emulator)) == len(results)
    (line,) = error_lines(result.stderr)
    assert "stopped after the first failure (--stop-on-error)" in line


def test_a_429_pauses_every_worker(sp_env, emulator, devops):
    devops.add_fault("throttle", path="/_apis/projects$", count=1, retry_after=2)
    result = batch(sp_env, emulator, [{"path": "_apis/projects", "query": {"$top": 1}}] * 12, "--parallel", "4")
    assert result.returncode == 0, result.stderr
    assert [r["status"] for r in results_of(result)] == [200] * 12
    entries = devops_requests(emulator)
    assert [e["status"] for e in entries].count(429) == 1 and len(entries) == 13
    throttled_at = next(e["time"] for e in entries if e["status"] == 429)
    after = [e["time"] for e in entries if e["time"] > throttled_at + 0.1]
    assert after and min(after) >= throttled_at + 1.9  # nobody started during the Retry-After of 2 s
    assert "429" in result.stderr and "throttled on resource Core" in result.stderr


def test_parallel_is_the_number_of_requests_in_flight(sp_env, emulator, devops):
    devops.set_latency(250)
    lines = [{"path": "_apis/projects", "query": {"$top": 1}}] * 16
    for parallel in (4, 1):
        emulator.log.clear()
        result = batch(sp_env, emulator, lines, "--parallel", str(parallel))
        assert result.returncode == 0, result.stderr
        entries = devops_requests(emulator)
        assert len(entries) == 16
        assert max_in_flight(entries, 0.25) == parallel
        assert len({e["connection_id"] for e in entries}) <= parallel  # kept alive: one connection per worker


def _managed_identity_token_requests(emulator):
    # IDENTITY_ENDPOINT's protocol from az 2.73, MSI_ENDPOINT's before (tests/az_support.py picks it by version).
    return [e for path in (MANAGED_IDENTITY_PATH, MSI_EXTENSION_PATH)
            for e in emulator.log.entries(listener="login", path=path)]


def test_one_entra_token_for_the_whole_batch(mi_env, emulator, devops):
    # A managed identity's tokens are cached in memory only (REFERENCE.md): every az process asks once. What one
    # token costs depends on the az (az <= 2.72's msrestazure asks twice), so one `devops-token get` is the yardstick.
    emulator.log.clear()
    assert mi_env.az("devops-token", "get", "-o", "none").returncode == 0
    one_token = len(_managed_identity_token_requests(emulator))
    assert one_token >= 1
    emulator.log.clear()
    result = batch(mi_env, emulator, [{"path": "_apis/projects", "query": {"$top": 1}}] * 40, "--parallel", "8")
    assert result.returncode == 0, result.stderr
    assert len(_managed_identity_token_requests(emulator)) == one_token
    assert len({e["headers"]["authorization"] for e in devops_requests(emulator)}) == 1


def test_5000_requests_in_constant_memory(sp_env, emulator, devops, tmp_path):
    requests_file, results_file = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    # 5,000 answers of about 25 KB: 120 MB of bodies, which would not fit under the bound if they piled up.
    requests_file.write_text(jsonl([{"id": n, "path": "_apis/projects", "query": {"$top": 100}}
                                    for n in range(5000)]))
    args = [sp_env.az_path, "devops-rest", "batch", "--org", emulator.org_url("contoso"), "--input", "-",
            "--parallel", "8"]
    measured = subprocess.run([sys.executable, "-c", PEAK_RSS, str(requests_file), str(results_file), *args],
                              capture_output=True, text=True, env=sp_env.env, cwd=sp_env.config_dir, timeout=900,
                              check=False)
    code, peak_kb = (int(word) for word in measured.stdout.split())
    assert code == 0, measured.stderr
    sizes, indexes = 0, []
    with open(results_file, encoding="utf-8") as handle:
        for line in handle:
            result = json.loads(line)
            assert result["status"] == 200 and result["id"] == result["index"]
            indexes.append(result["index"])
            sizes += len(line)
    assert indexes == list(range(5000)) and sizes > 100 * 1024 * 1024
    print("az devops-rest batch, 5,000 requests: peak RSS %d MB" % (peak_kb // 1024))
    assert peak_kb < 250 * 1024, "peak RSS %d MB" % (peak_kb // 1024)


def test_a_closed_output_stops_the_batch_quietly(sp_env, emulator, devops, tmp_path):
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text(jsonl([{"path": "_apis/projects", "query": {"$top": 1}}] * 500))
    with open(requests_file, "rb") as stdin:
        process = subprocess.Popen([sp_env.az_path, "devops-rest", "batch", "--org", emulator.org_url("contoso"),
                                    "--input", "-", "--parallel", "2"], stdin=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=sp_env.env, cwd=sp_env.config_dir)
        first = json.loads(process.stdout.readline())  # then the reader goes away, as `| head -n 1` does
        process.stdout.close()
        stderr = process.stderr.read().decode("utf-8")
        code = process.wait(timeout=180)
    assert first["index"] == 0 and first["status"] == 200
    assert code == 1 and "the output was closed" in stderr, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert len(devops_requests(emulator)) < 500
