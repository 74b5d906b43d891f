"""DRAFT (issue 13): benchmarks of `az devops-rest batch`, on the loopback emulator, with bench/bench.py's method
(paired rounds, rotating order, medians, every output checked outside the timed span).

Not runnable until the `devops-rest batch` command is wired (see /work/notes/batch-wiring.md); then run it with
``.venv/bin/python bench/batch_bench.py [--quick]`` after scripts/bootstrap has built the wheel. Three figures:

B1. per call: a batch of 200 GETs (20 ms server time each, ``--parallel 4``) vs a shell loop of
    `az devops-rest call` (one az process per call; fewer calls, compared per call). Goal: ≥ 25× cheaper per call.
B2. ``--parallel 8`` vs ``--parallel 1``, 100 GETs at 100 ms server time. Goal: ≥ 4× faster.
B3. the batch vs the floor: one Python process, one ``requests.Session`` (one connection) per worker, requests
    back to back with a token fetched beforehand (the floor has no az start-up and no token fetch: the ratio
    shows what az start-up + the engine cost). Reported, no goal.

Server latency is the emulator's control API: ``emu.services["devops"].set_latency(ms)`` in-process (what
bench.py uses), or ``PUT {devops_url}/_emulator/latency {"ms": N}`` from another process.
NOTE: the import paths below (emulator.core, emulator.azenv, emulator.directory) move when the emulator becomes
a package; adjust them then, as for bench/bench.py.
"""
import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# bench/bench.py: the shared method (rounds, variants, report).
import bench as harness  # noqa: E402  pylint: disable=wrong-import-position
from emulator.azenv import AzEnv  # noqa: E402  pylint: disable=wrong-import-position
from emulator.core import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from emulator.directory import AZURE_DEVOPS_RESOURCE  # noqa: E402  pylint: disable=wrong-import-position

ORG = harness.BIG_ORG            # 10,000 projects: GET _apis/projects/{name} for distinct names
PROFILES = {
    "full": {"rounds": 5, "loop_rounds": 3, "batch": 200, "loop": 20, "parallel_requests": 100},
    "quick": {"rounds": 1, "loop_rounds": 1, "batch": 40, "loop": 5, "parallel_requests": 20},
}

# One az process per call, as a script does it today.
CALL_LOOP_SH = r"""set -euo pipefail
az=$1 org=$2 input=$3 out=$4
: > "$out"
while IFS= read -r path; do
    "$az" devops-rest call --org "$org" --path "$path" >> "$out"
    echo >> "$out"
done < "$input"
"""

# The floor: N threads, each with its own Session (one kept-alive connection), requests back to back.
FLOOR_PY = r"""import json, os, sys, threading
import requests
url, ca, paths_file, out, workers = sys.argv[1:6]
token = os.environ["BENCH_DEVOPS_TOKEN"]  # not in argv: a token never shows in a process list
paths = [line.rstrip("\n") for line in open(paths_file, encoding="utf-8")]
results = [None] * len(paths)
lock, cursor = threading.Lock(), [0]
def worker():
    session = requests.Session()
    while True:
        with lock:
            index = cursor[0]
            cursor[0] += 1
        if index >= len(paths):
            return
        r = session.get(url + "/" + paths[index], params={"api-version": "7.1"}, verify=ca,
                        headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
        r.raise_for_status()
        results[index] = r.json()
threads = [threading.Thread(target=worker) for _ in range(int(workers))]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w", encoding="utf-8") as handle:
    for index, body in enumerate(results):
        handle.write(json.dumps({"index": index, "status": 200, "body": body}) + "\n")
"""


def project_paths(count, first=2):
    """Distinct project names of the big organization ('Project 003', ...), spaces left for the tools to encode."""
    return ["_apis/projects/Project %03d" % (i + 1) for i in range(first, first + count)]


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return path


def check_batch(count):
    """Every line answered 200, in order, with distinct projects."""
    def check(path):
        with open(path, encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle]
        names = {line.get("body", {}).get("name") for line in lines}
        if [line["index"] for line in lines] != list(range(count)) or {line["status"] for line in lines} != {200} \
                or len(names) != count:
            raise harness.BenchError("batch output in %s: expected %d ordered 200 results with distinct projects"
                                     % (path, count))
    return check


def check_loop(count):
    def check(path):
        documents = harness._json_documents(path)  # pylint: disable=protected-access
        if len({document.get("name") for document in documents}) != count:
            raise harness.BenchError("the call loop returned %d documents, expected %d" % (len(documents), count))
    return check


class BatchBench(harness.Bench):
    def __init__(self, emu, env, workdir, profile, cpu_note):
        super().__init__(emu, env, workdir, profile, cpu_note)
        self.org = emu.org_url(ORG)
        for name, text in (("call_loop", CALL_LOOP_SH), ("floor", FLOOR_PY)):
            self.scripts[name] = os.path.join(workdir, name + (".sh" if name.endswith("loop") else ".py"))
            with open(self.scripts[name], "w", encoding="utf-8") as handle:
                handle.write(text)

    def batch_argv(self, input_path, parallel):
        return [self.az, "devops-rest", "batch", "--org", self.org, "--input", input_path,
                "--parallel", str(parallel)]

    def with_latency(self, ms, name, variants, rounds):
        self.devops.set_latency(ms)
        try:
            harness.run_rounds(name, variants, rounds, self.workdir)
        finally:
            self.devops.set_latency(0)
        self.variants += variants

    def per_call(self):
        count, loop_count = self.profile["batch"], self.profile["loop"]
        batch_input = write_lines(os.path.join(self.workdir, "b1.jsonl"),
                                  [json.dumps({"path": p}) for p in project_paths(count)])
        loop_input = write_lines(os.path.join(self.workdir, "b1-loop.txt"), project_paths(loop_count))
        loop_out = os.path.join(self.workdir, "loop.json")
        ours = harness.Variant("b1-batch", "az devops-rest batch --parallel 4 (%d GETs)" % count,
                               self.batch_argv(batch_input, 4), self.env.env, check=check_batch(count))
        loop = harness.Variant("b1-call-loop", "a shell loop of az devops-rest call (%d calls)" % loop_count,
                               self.bash("call_loop", self.az, self.org, loop_input, loop_out), self.env.env,
                               check=lambda _: check_loop(loop_count)(loop_out), after=harness.remove(loop_out),
                               rounds=self.profile["loop_rounds"], warm_up=False)
        self.with_latency(harness.PAGE_LATENCY_MS, "B1 per call", [ours, loop], self.profile["rounds"])
        rounds = sorted(set(ours.samples) & set(loop.samples))
        ratios = [(loop.samples[r].seconds / loop_count) / (ours.samples[r].seconds / count) for r in rounds]
        ratio = statistics.median(ratios)
        self.row("B1", "Per call, +%d ms server time: batch of %d (`--parallel 4`) vs a shell loop of "
                 "`az devops-rest call`" % (harness.PAGE_LATENCY_MS, count),
                 "%.1f ms/call" % (1000 * ours.median() / count), "%.0f ms/call" % (1000 * loop.median() / loop_count),
                 "%.0f× cheaper" % ratio, "≥ 25× cheaper", ratio >= 25, "%d rounds" % len(rounds))

    def parallel(self):
        count = self.profile["parallel_requests"]
        batch_input = write_lines(os.path.join(self.workdir, "b2.jsonl"),
                                  [json.dumps({"path": p}) for p in project_paths(count)])
        eight = harness.Variant("b2-parallel-8", "batch --parallel 8", self.batch_argv(batch_input, 8), self.env.env,
                                check=check_batch(count))
        one = harness.Variant("b2-parallel-1", "batch --parallel 1", self.batch_argv(batch_input, 1), self.env.env,
                              check=check_batch(count))
        self.with_latency(100, "B2 parallel", [eight, one], self.profile["rounds"])
        ratio, spread = harness.paired_ratio(eight, one)
        self.row("B2", "%d GETs at +100 ms: `--parallel 8` vs `--parallel 1`" % count, "%.2f s" % eight.median(),
                 "%.2f s" % one.median(), "%.3f× (%.1f× faster)" % (ratio, 1 / ratio), "≤ 0.25× (≥ 4× faster)",
                 ratio <= 0.25, spread)

    def floor(self):
        count = self.profile["batch"]
        paths = project_paths(count)
        batch_input = write_lines(os.path.join(self.workdir, "b3.jsonl"), [json.dumps({"path": p}) for p in paths])
        paths_file = write_lines(os.path.join(self.workdir, "b3-paths.txt"), [p.replace(" ", "%20") for p in paths])
        token = self.env.get_access_token(AZURE_DEVOPS_RESOURCE)["accessToken"]
        floor_out = os.path.join(self.workdir, "floor.jsonl")
        ours = harness.Variant("b3-batch", "batch --parallel 4", self.batch_argv(batch_input, 4), self.env.env,
                               check=check_batch(count))
        floor = harness.Variant("b3-floor", "python + requests, 4 threads, one Session each, token given",
                                [sys.executable, self.scripts["floor"], self.org, self.ca, paths_file, floor_out, "4"],
                                dict(self.env.env, BENCH_DEVOPS_TOKEN=token),
                                check=lambda _: check_batch(count)(floor_out),
                                after=harness.remove(floor_out))
        self.with_latency(harness.PAGE_LATENCY_MS, "B3 floor", [ours, floor], self.profile["rounds"])
        ratio, spread = harness.paired_ratio(ours, floor)
        self.row("B3", "%d GETs at +%d ms: batch `--parallel 4` vs the floor (4 threads × 1 connection, no az)"
                 % (count, harness.PAGE_LATENCY_MS), "%.2f s" % ours.median(), "%.2f s" % floor.median(),
                 "%.2f×" % ratio, "reported", True, spread)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the emulator and the clients to CPUs")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    wheels = sorted(glob.glob(os.path.join(harness.REPO, "dist", "devops_token-*-py3-none-any.whl")))
    if not wheels:
        raise SystemExit("batch_bench: no wheel in dist/; run scripts/bootstrap first")
    started = time.perf_counter()
    client_cpus, cpu_note = harness.cpu_pinning(not args.no_pin)
    with tempfile.TemporaryDirectory(prefix="devops-token-batch-bench-") as workdir:
        # The call loop alone is ~20 processes per round; the batches are a few hundred requests each.
        with Emulator(os.path.join(workdir, "emulator"), max_seconds=3600, max_requests=200_000) as emu:
            if client_cpus:
                os.sched_setaffinity(0, client_cpus)
            env = AzEnv(emu, os.path.join(workdir, "config"), extension_dir=os.path.join(workdir, "extensions"))
            env.az("extension", "add", "--source", wheels[-1], "--yes", check=True)
            env.register_cloud()
            env.login_service_principal("ci-bot")
            bench = BatchBench(emu, env, workdir, PROFILES[mode], cpu_note)
            for figure in (bench.per_call, bench.parallel, bench.floor):
                figure()
            text = harness.report(bench, mode, harness.machine(env), time.perf_counter() - started)
    print(text)  # rows for bench/RESULTS.md; merging them into bench.py's report is part of the wiring


if __name__ == "__main__":
    main()
