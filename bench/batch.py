"""The batch figures (issue 13): `az devops-rest batch` on the loopback emulator, with the method of the other
figures (paired rounds, rotating order, medians, every output checked outside the timed span). ``python -m bench
--only batch`` runs them alone.

B1. per call: a batch of 200 GETs (20 ms server time each, ``--parallel 4``) vs a shell loop of
    `az devops-rest call` (one az process per call; fewer calls, compared per call). Goal: >= 25x cheaper per call.
B2. ``--parallel 8`` vs ``--parallel 1``, 100 GETs at 100 ms server time. Goal: >= 4x faster.
B3. the batch vs the floor: one Python process, one ``requests.Session`` (one connection) per worker, requests
    back to back with a token fetched beforehand (the floor has no az start-up and no token fetch: the ratio
    shows what az start-up + the engine cost). Reported, no goal.
"""
import json
import os
import statistics
import sys

from bench.checks import _json_documents, remove
from bench.figures import BIG_ORG, PAGE_LATENCY_MS
from bench.measure import BenchError, Variant, paired_ratio, run_rounds
from emulator.constants import AZURE_DEVOPS_RESOURCE

ORG = BIG_ORG            # 10,000 projects: GET _apis/projects/{name} for distinct names
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
            raise BenchError("batch output in %s: expected %d ordered 200 results with distinct projects"
                             % (path, count))
    return check


def check_loop(count):
    def check(path):
        documents = _json_documents(path)
        if len({document.get("name") for document in documents}) != count:
            raise BenchError("the call loop returned %d documents, expected %d" % (len(documents), count))
    return check


def run_figures(bench, mode):
    """Add rows B1-B3 to ``bench`` (a bench.figures.Bench)."""
    figures = BatchFigures(bench, PROFILES[mode])
    for figure in (figures.per_call, figures.parallel, figures.floor):
        figure()


class BatchFigures:
    def __init__(self, bench, profile):
        self.bench, self.profile = bench, profile
        self.workdir, self.env, self.az = bench.workdir, bench.env, bench.az
        self.org = bench.emu.org_url(ORG)
        for name, text in (("call_loop", CALL_LOOP_SH), ("floor", FLOOR_PY)):
            bench.scripts[name] = os.path.join(self.workdir, name + (".sh" if name.endswith("loop") else ".py"))
            with open(bench.scripts[name], "w", encoding="utf-8") as handle:
                handle.write(text)

    def batch_argv(self, input_path, parallel):
        return [self.az, "devops-rest", "batch", "--org", self.org, "--input", input_path,
                "--parallel", str(parallel)]

    def with_latency(self, ms, name, variants, rounds):
        self.bench.devops.set_latency(ms)
        try:
            run_rounds(name, variants, rounds, self.workdir)
        finally:
            self.bench.devops.set_latency(0)
        self.bench.variants += variants

    def per_call(self):
        count, loop_count = self.profile["batch"], self.profile["loop"]
        batch_input = write_lines(os.path.join(self.workdir, "b1.jsonl"),
                                  [json.dumps({"path": p}) for p in project_paths(count)])
        loop_input = write_lines(os.path.join(self.workdir, "b1-loop.txt"), project_paths(loop_count))
        loop_out = os.path.join(self.workdir, "loop.json")
        ours = Variant("b1-batch", "az devops-rest batch --parallel 4 (%d GETs)" % count,
                       self.batch_argv(batch_input, 4), self.env.env, check=check_batch(count))
        loop = Variant("b1-call-loop", "a shell loop of az devops-rest call (%d calls)" % loop_count,
                       self.bench.bash("call_loop", self.az, self.org, loop_input, loop_out), self.env.env,
                       check=lambda _: check_loop(loop_count)(loop_out), after=remove(loop_out),
                       rounds=self.profile["loop_rounds"], warm_up=False)
        self.with_latency(PAGE_LATENCY_MS, "B1 per call", [ours, loop], self.profile["rounds"])
        rounds = sorted(set(ours.samples) & set(loop.samples))
        ratios = [(loop.samples[r].seconds / loop_count) / (ours.samples[r].seconds / count) for r in rounds]
        ratio = statistics.median(ratios)
        self.bench.row(
            "B1", "Per call, +%d ms server time: batch of %d (`--parallel 4`) vs a shell loop of `az devops-rest "
            "call` (%d calls)" % (PAGE_LATENCY_MS, count, loop_count),
            "%.1f ms/call" % (1000 * ours.median() / count), "%.0f ms/call" % (1000 * loop.median() / loop_count),
            "%.0f× cheaper" % ratio, "≥ 25× cheaper", ratio >= 25,
            "%d (range %.0f–%.0f)" % (len(rounds), min(ratios), max(ratios)))

    def parallel(self):
        count = self.profile["parallel_requests"]
        batch_input = write_lines(os.path.join(self.workdir, "b2.jsonl"),
                                  [json.dumps({"path": p}) for p in project_paths(count)])
        eight = Variant("b2-parallel-8", "batch --parallel 8", self.batch_argv(batch_input, 8), self.env.env,
                        check=check_batch(count))
        one = Variant("b2-parallel-1", "batch --parallel 1", self.batch_argv(batch_input, 1), self.env.env,
                      check=check_batch(count))
        self.with_latency(100, "B2 parallel", [eight, one], self.profile["rounds"])
        ratio, spread = paired_ratio(eight, one)
        self.bench.row(
            "B2", "%d GETs at +100 ms: `--parallel 8` vs `--parallel 1`" % count, "%.2f s" % eight.median(),
            "%.2f s" % one.median(), "%.3f× (%.1f× faster)" % (ratio, 1 / ratio), "≤ 0.25× (≥ 4× faster)",
            ratio <= 0.25, spread)

    def floor(self):
        count = self.profile["batch"]
        paths = project_paths(count)
        batch_input = write_lines(os.path.join(self.workdir, "b3.jsonl"), [json.dumps({"path": p}) for p in paths])
        paths_file = write_lines(os.path.join(self.workdir, "b3-paths.txt"), [p.replace(" ", "%20") for p in paths])
        token = self.env.get_access_token(AZURE_DEVOPS_RESOURCE)["accessToken"]
        floor_out = os.path.join(self.workdir, "floor.jsonl")
        ours = Variant("b3-batch", "batch --parallel 4", self.batch_argv(batch_input, 4), self.env.env,
                       check=check_batch(count))
        floor = Variant("b3-floor", "python + requests, 4 threads, one Session each, token given",
                        [sys.executable, self.bench.scripts["floor"], self.org, self.bench.ca, paths_file, floor_out,
                         "4"],
                        dict(self.env.env, BENCH_DEVOPS_TOKEN=token), check=lambda _: check_batch(count)(floor_out),
                        after=remove(floor_out))
        self.with_latency(PAGE_LATENCY_MS, "B3 floor", [ours, floor], self.profile["rounds"])
        ratio, spread = paired_ratio(ours, floor)
        self.bench.row(
            "B3", "%d GETs at +%d ms: batch `--parallel 4` vs the floor (4 threads × 1 connection, no az)"
            % (count, PAGE_LATENCY_MS), "%.2f s" % ours.median(), "%.2f s" % floor.median(), "%.2f×" % ratio,
            "reported", True, spread)
