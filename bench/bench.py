"""Benchmarks of devops-token against its peers, on the bundled loopback emulator. Run through bench/run.

The real ``az`` (the venv's azure-cli) with the extension installed from the wheel, in a throwaway
AZURE_CONFIG_DIR, logged in as the emulator's service principal ci-bot. Five figures:

1. ``az devops-token get`` vs ``az account get-access-token --resource <Azure DevOps>``;
2. ``az devops-rest call --path _apis/projects`` vs ``az rest --resource … --url …`` and vs the documented
   recipe (``az account get-access-token … --query accessToken -o tsv``, then curl with the token);
3. paging 10,000 projects (100 pages of 100, 20 ms added per request): ``--paginate`` vs a shell loop of
   ``az rest`` following ``x-ms-continuationtoken``, and vs a curl loop with one token;
4. a 1 GiB ``--output-file`` download: peak RSS of the az process, and throughput vs ``curl -o``;
5. ``az version`` start-up with the extension installed vs without (and ``az account show``, for context).

Method: each figure runs in *rounds*; in a round every variant runs once, back to back, in an order that
rotates from round to round, so drift on the machine hits all of them alike. A figure is the median over the
rounds; a ratio is the median of the per-round ratios (ours / peer). One unrecorded warm-up run per variant
comes first (command index, MSAL token cache, the organization's tenant cache, .pyc files). Every run's output
is checked (token shape, item counts, the artifact's sha256) outside the timed span, so a wrong answer cannot
look fast. Wall time is measured around the child process, CPU time comes from ``os.wait4``, peak RSS from
GNU time (see :func:`run_measured`).

The emulator runs in this process (threads). On a machine with two or more CPUs it is pinned to the first
CPU and every measured command to the others (``sched_setaffinity``), so the server and the client do not
compete for one core; ``--no-pin`` turns that off.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from emulator.app import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from emulator.azenv import AzEnv  # noqa: E402  pylint: disable=wrong-import-position
from emulator.devops.artifacts import artifact_sha256  # noqa: E402  pylint: disable=wrong-import-position
from emulator.constants import AZURE_DEVOPS_RESOURCE  # noqa: E402  pylint: disable=wrong-import-position

RESULTS = os.path.join(REPO, "bench", "RESULTS.md")
CURL = shutil.which("curl") or "curl"
BIG_ORG, BIG_ORG_ITEMS, PAGE_LATENCY_MS = "bigorg", 10000, 20
ARTIFACT_PROJECT = "Website"
ARTIFACT_PATH = "{project}/_apis/build/builds/1/artifacts?artifactName=drop&$format=zip"
MB = 1000 * 1000

# Full run, and --quick (a smoke run: fewer rounds, 1,000 items, 64 MiB; not written to RESULTS.md).
PROFILES = {
    "full": {"token": 20, "call": 20, "paging": 5, "paging_az_rest": 3, "paging_pages": 100, "download": 5,
             "download_size": 1 << 30, "startup": 25},
    "quick": {"token": 3, "call": 3, "paging": 1, "paging_az_rest": 1, "paging_pages": 10, "download": 1,
              "download_size": 64 << 20, "startup": 5},
}

# The documented recipe: a token from az, then curl with it.
RECIPE_SH = r"""set -euo pipefail
az=$1 resource=$2 ca=$3 url=$4
token=$("$az" account get-access-token --resource "$resource" --query accessToken -o tsv)
curl -sS --fail --noproxy '*' --cacert "$ca" -H "Authorization: Bearer $token" "$url"
"""

# Paging with curl: one token from az, then one curl per page, following x-ms-continuationtoken.
CURL_LOOP_SH = r"""set -euo pipefail
az=$1 resource=$2 ca=$3 url=$4 out=$5 max_pages=$6
token=$("$az" account get-access-token --resource "$resource" --query accessToken -o tsv)
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
continuation='' pages=0
: > "$out"
while :; do
    args=(-G --data-urlencode "api-version=7.1")
    [ -n "$continuation" ] && args+=(--data-urlencode "continuationToken=$continuation")
    curl -sS --fail --noproxy '*' --cacert "$ca" -H "Authorization: Bearer $token" "${args[@]}" \
        -D "$headers" "$url" >> "$out"
    echo >> "$out"
    pages=$((pages + 1))
    continuation=$(sed -n 's/^x-ms-continuationtoken:[[:space:]]*\([^[:space:]]*\).*$/\1/Ip' "$headers")
    [ -n "$continuation" ] && [ "$pages" -lt "$max_pages" ] || break
done
"""

# Paging with az rest: it prints only the body, so the continuation header is read from its --debug log
# (the only place az rest shows response headers). One az process per page.
AZ_REST_LOOP_SH = r"""set -euo pipefail
az=$1 resource=$2 url=$3 out=$4 max_pages=$5
log=$(mktemp)
trap 'rm -f "$log"' EXIT
urlencode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in [A-Za-z0-9._~-]) out+=$c ;; *) printf -v c '%%%02X' "'$c"; out+=$c ;; esac
    done
    printf '%s' "$out"
}
continuation='' pages=0
: > "$out"
while :; do
    page_url="$url?api-version=7.1"
    [ -n "$continuation" ] && page_url="$page_url&continuationToken=$(urlencode "$continuation")"
    "$az" rest --resource "$resource" --url "$page_url" --debug >> "$out" 2> "$log"
    echo >> "$out"
    pages=$((pages + 1))
    continuation=$(sed -n "s/^.*'x-ms-continuationtoken': '\([^']*\)'.*\$/\1/Ip" "$log" | head -n 1)
    [ -n "$continuation" ] && [ "$pages" -lt "$max_pages" ] || break
done
"""


class BenchError(RuntimeError):
    pass


class Sample:
    """One measured run: wall seconds, CPU seconds (user + system, children included), peak RSS in bytes."""

    def __init__(self, seconds, cpu, max_rss):
        self.seconds, self.cpu, self.max_rss = seconds, cpu, max_rss


def _gnu_time():
    """GNU time, to read a command's peak RSS (see run_measured); None when this machine has none."""
    path = shutil.which("time", path="/usr/bin:/bin") or ""
    try:
        banner = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return path if "GNU" in banner.stdout + banner.stderr else None


GNU_TIME = _gnu_time()


def run_measured(argv, env, stdout_path=None, cwd=None, timeout=1200):
    """Run ``argv`` to completion; its Sample. A non-zero exit is an error (the bench must not time failures).

    Peak RSS: ``ru_maxrss`` of a direct child of this (large) process starts at this process's own peak,
    because exec records the high-water mark of the address space it replaces. So the command runs under
    GNU time, a small process whose child's ``ru_maxrss`` is the command's own (largest process of a tree)."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(mode="r") as rss:
        command = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else argv
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # pylint: disable=consider-using-with
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            watchdog = threading.Timer(timeout, proc.kill)
            watchdog.start()
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            watchdog.cancel()
        finally:
            if stdout_path:
                out.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode("utf-8", "replace")[-3000:]
            raise BenchError("%s exited with %d:\n%s" % (" ".join(argv[:4]), proc.returncode, message))
        max_rss = int(rss.read().split()[-1]) * 1024 if GNU_TIME else None
    return Sample(seconds, usage.ru_utime + usage.ru_stime, max_rss)


class Variant:
    """One command of a figure. ``check(stdout_path)`` validates the output of every run."""

    def __init__(self, key, label, argv, env, check=None, after=None, rounds=None, warm_up=True):
        self.key, self.label, self.argv, self.env = key, label, argv, env
        self.check, self.after = check, after
        self.rounds = rounds          # run only in the first N rounds (None: every round)
        self.warm_up = warm_up
        self.samples = {}             # round -> Sample

    def run(self, workdir):
        stdout_path = os.path.join(workdir, "%s.out" % self.key)
        sample = run_measured(self.argv, self.env, stdout_path=stdout_path, cwd=workdir)
        try:
            if self.check:
                self.check(stdout_path)
        finally:
            if self.after:
                self.after()
            os.unlink(stdout_path)
        return sample

    def values(self, attribute="seconds"):
        return [getattr(s, attribute) for _, s in sorted(self.samples.items())]

    def median(self, attribute="seconds"):
        values = self.values(attribute)
        return None if None in values else statistics.median(values)


def megabytes(value):
    return "n/a" if value is None else "%.0f MB" % (value / MB)


def run_rounds(name, variants, rounds, workdir):
    """Warm up, then ``rounds`` rounds with the variants' order rotating; samples land on the variants."""
    for variant in variants:
        if variant.warm_up:
            variant.run(workdir)
    for number in range(rounds):
        active = [v for v in variants if v.rounds is None or number < v.rounds]
        shift = number % len(active)
        for variant in active[shift:] + active[:shift]:
            variant.samples[number] = variant.run(workdir)
        progress = ", ".join("%s %.2fs" % (v.key, v.samples[number].seconds) for v in active)
        print("  [%s] round %d/%d: %s" % (name, number + 1, rounds, progress), file=sys.stderr, flush=True)


def paired_ratio(ours, peer, attribute="seconds"):
    """(median, spread) over the rounds both ran of ours / peer; spread names the rounds and how far the
    per-round ratios scatter (interquartile range, or the whole range below 4 rounds)."""
    rounds = sorted(set(ours.samples) & set(peer.samples))
    ratios = [getattr(ours.samples[r], attribute) / getattr(peer.samples[r], attribute) for r in rounds]
    if len(ratios) >= 4:
        low, _, high = statistics.quantiles(ratios, n=4)
        spread = "%d (IQR %.2f–%.2f)" % (len(ratios), low, high)
    else:
        spread = "%d (range %.2f–%.2f)" % (len(ratios), min(ratios), max(ratios))
    return statistics.median(ratios), spread


# -- output checks ---------------------------------------------------------------------------------
def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _json_documents(path):
    """Every JSON document in a file of documents written one after another (the loops' pages)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    decoder, index, documents = json.JSONDecoder(), 0, []
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def check_token(path):
    document = _read_json(path)
    if document.get("tokenType") != "Bearer" or document.get("accessToken", "").count(".") != 2:
        raise BenchError("not a token: %r" % document)


def check_projects(count):
    def check(path):
        documents = _json_documents(path)
        items = [item for document in documents for item in document["value"]]
        names = {item["name"] for item in items}
        if len(items) != count or len(names) != count:
            raise BenchError("expected %d distinct projects in %s, got %d (%d distinct)"
                             % (count, path, len(items), len(names)))
    return check


def check_file(path, size, sha256):
    def check(_stdout):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        actual_size = os.path.getsize(path)
        if actual_size != size or digest.hexdigest() != sha256:
            raise BenchError("%s: %d bytes, sha256 %s; expected %d bytes, sha256 %s"
                             % (path, actual_size, digest.hexdigest(), size, sha256))
    return check


def remove(path):
    def after():
        if os.path.exists(path):
            os.unlink(path)
    return after


def check_account(path):
    if "tenantId" not in _read_json(path):
        raise BenchError("az account show: no tenantId")


def check_version(with_extension):
    def check(path):
        document = _read_json(path)
        has = "devops-token" in (document.get("extensions") or {})
        if "azure-cli" not in document or has != with_extension:
            raise BenchError("az version: extensions %r" % document.get("extensions"))
    return check


# -- the figures -----------------------------------------------------------------------------------
class Bench:
    def __init__(self, emu, env, workdir, profile, cpu_note):
        self.emu, self.env, self.workdir, self.profile = emu, env, workdir, profile
        self.cpu_note = cpu_note
        self.devops = emu.services["devops"]
        self.az = env.az_path
        self.ca = emu.ca_bundle
        self.client_env = dict(env.env, CURL_CA_BUNDLE=emu.ca_bundle)  # curl: trust the emulator's CA only
        self.rows, self.variants = [], []
        self.scripts = {}
        for name, text in (("recipe", RECIPE_SH), ("curl_loop", CURL_LOOP_SH), ("az_rest_loop", AZ_REST_LOOP_SH)):
            self.scripts[name] = os.path.join(workdir, name + ".sh")
            with open(self.scripts[name], "w", encoding="utf-8") as handle:
                handle.write(text)

    def bash(self, script, *args):
        return ["bash", self.scripts[script], *args]

    def row(self, number, figure, ours, peer, ratio, goal, met, rounds):
        self.rows.append((number, figure, ours, peer, ratio, goal, "yes" if met else "**no**", rounds))

    def time_row(self, number, figure, ours, peer, goal):
        ratio, spread = paired_ratio(ours, peer)
        self.row(number, figure, "%.2f s" % ours.median(), "%.2f s" % peer.median(), "%.3f×" % ratio,
                 "≤ %.2f×" % goal, ratio <= goal, spread)
        return ratio

    def token(self):
        ours = Variant("token-ours", "az devops-token get", [self.az, "devops-token", "get"], self.env.env,
                       check=check_token)
        peer = Variant("token-az", "az account get-access-token --resource …",
                       [self.az, "account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE], self.env.env,
                       check=check_token)
        run_rounds("1 token", [ours, peer], self.profile["token"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("1", "`az devops-token get` vs `az account get-access-token --resource 499b84ac-…`",
                      ours, peer, 1.0)

    def call(self):
        org = self.emu.org_url("contoso")
        url = org + "/_apis/projects?api-version=7.1"
        check = check_projects(100)
        ours = Variant("call-ours", "az devops-rest call --org … --path _apis/projects",
                       [self.az, "devops-rest", "call", "--org", org, "--path", "_apis/projects"], self.env.env,
                       check=check)
        rest = Variant("call-az-rest", "az rest --resource … --url …/_apis/projects?api-version=7.1",
                       [self.az, "rest", "--resource", AZURE_DEVOPS_RESOURCE, "--url", url], self.env.env, check=check)
        recipe = Variant("call-recipe", "az account get-access-token … -o tsv; curl -H 'Authorization: Bearer …'",
                         self.bash("recipe", self.az, AZURE_DEVOPS_RESOURCE, self.ca, url), self.client_env,
                         check=check)
        run_rounds("2 call", [ours, rest, recipe], self.profile["call"], self.workdir)
        self.variants += [ours, rest, recipe]
        self.time_row("2a", "`az devops-rest call --path _apis/projects` vs `az rest --resource … --url …`",
                      ours, rest, 1.0)
        self.time_row("2b", "`az devops-rest call --path _apis/projects` vs recipe: "
                      "`az account get-access-token … -o tsv` + `curl`", ours, recipe, 1.0)

    def paging(self):
        pages = self.profile["paging_pages"]
        items = pages * 100
        org = self.emu.org_url(BIG_ORG)
        url = org + "/_apis/projects"
        check = check_projects(items)
        argv = [self.az, "devops-rest", "call", "--org", org, "--path", "_apis/projects", "--paginate"]
        if items < BIG_ORG_ITEMS:
            argv += ["--max-items", str(items)]
        out = os.path.join(self.workdir, "pages.json")
        ours = Variant("paging-ours", "az devops-rest call … --paginate", argv, self.env.env, check=check)
        curl_loop = Variant("paging-curl-loop", "az account get-access-token + a curl per page",
                            self.bash("curl_loop", self.az, AZURE_DEVOPS_RESOURCE, self.ca, url, out, str(pages)),
                            self.client_env, check=lambda _: check(out), after=remove(out))
        rest_loop = Variant("paging-az-rest-loop", "an az rest --debug per page",
                            self.bash("az_rest_loop", self.az, AZURE_DEVOPS_RESOURCE, url, out, str(pages)),
                            self.client_env, check=lambda _: check(out), after=remove(out),
                            rounds=self.profile["paging_az_rest"], warm_up=False)
        self.devops.set_latency(PAGE_LATENCY_MS)
        try:
            run_rounds("3 paging", [ours, rest_loop, curl_loop], self.profile["paging"], self.workdir)
        finally:
            self.devops.set_latency(0)
        self.variants += [ours, rest_loop, curl_loop]
        what = "%s items (%d pages of 100, +%d ms per request)" % (format(items, ","), pages, PAGE_LATENCY_MS)
        ratio, spread = paired_ratio(ours, rest_loop)
        self.row("3a", "Paging %s: `--paginate` vs a shell loop of `az rest` (one az per page)" % what,
                 "%.2f s" % ours.median(), "%.2f s" % rest_loop.median(),
                 "%.3f× (%.0f× faster)" % (ratio, 1 / ratio), "≤ 0.05× (≥ 20× faster)", ratio <= 0.05,
                 spread + "; fewer: %d az processes each" % pages)
        self.time_row("3b", "Paging %s: `--paginate` vs a curl loop with one token (token fetch included)" % what,
                      ours, curl_loop, 1.0)

    def download(self):
        size = self.profile["download_size"]
        self.devops.set_artifact_size(size)
        print("  [4 download] sha256 of the %d-byte artifact..." % size, file=sys.stderr, flush=True)
        sha256 = artifact_sha256(size)
        token = self.env.get_access_token(AZURE_DEVOPS_RESOURCE)["accessToken"]
        org = self.emu.org_url("contoso")
        target = os.path.join(self.workdir, "drop.zip")
        url = "%s/%s/_apis/build/builds/1/artifacts?artifactName=drop&%%24format=zip&api-version=7.1" % (
            org, ARTIFACT_PROJECT)
        ours = Variant("download-ours", "az devops-rest call … --output-file",
                       [self.az, "devops-rest", "call", "--org", org, "--project", ARTIFACT_PROJECT,
                        "--path", ARTIFACT_PATH, "--output-file", target], self.env.env,
                       check=check_file(target, size, sha256), after=remove(target))
        peer = Variant("download-curl", "curl -o (same token)",
                       [CURL, "-sS", "--fail", "--noproxy", "*", "--cacert", self.ca, "-H",
                        "Authorization: Bearer " + token, "-o", target, url], self.client_env,
                       check=check_file(target, size, sha256), after=remove(target))
        try:
            run_rounds("4 download", [ours, peer], self.profile["download"], self.workdir)
        finally:
            self.devops.set_artifact_size(1 << 20)
        self.variants += [ours, peer]
        what = "%d MiB" % (size >> 20) if size < 1 << 30 else "%d GiB" % (size >> 30)
        rss = ours.median("max_rss")
        self.row("4a", "`--output-file` download of %s: peak RSS of the az process (peer: curl's)" % what,
                 megabytes(rss), megabytes(peer.median("max_rss")), "—", "< 150 MB",
                 rss is not None and rss < 150 * MB, str(len(ours.samples)))
        ratio, spread = paired_ratio(peer, ours)  # throughput ratio = peer time / our time
        self.row("4b", "`--output-file` download of %s: throughput vs `curl -o` with the same token "
                 "(whole command, start-up included)" % what, "%.0f MB/s" % (size / ours.median() / MB),
                 "%.0f MB/s" % (size / peer.median() / MB), "%.3f×" % ratio, "≥ 0.50×", ratio >= 0.5, spread)

    def startup(self):
        with_env = self.env.copy(os.path.join(self.workdir, "config-with"))
        without_dir = os.path.join(self.workdir, "config-without")
        shutil.copytree(self.env.config_dir, without_dir)
        empty = os.path.join(self.workdir, "no-extensions")
        os.makedirs(empty, exist_ok=True)
        without_env = AzEnv(self.emu, without_dir, extension_dir=empty, az=self.az)
        for env in (with_env, without_env):  # each builds its own command index below (warm-up)
            for name in glob.glob(os.path.join(env.config_dir, "*[iI]ndex.json")):
                os.unlink(name)
            env.az("version", check=True)
        ours = Variant("startup-with", "az version (extension installed)", [self.az, "version"], with_env.env,
                       check=check_version(True))
        peer = Variant("startup-without", "az version (no extension)", [self.az, "version"], without_env.env,
                       check=check_version(False))
        run_rounds("5 start-up", [ours, peer], self.profile["startup"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("5", "`az version` start-up with the extension installed vs without", ours, peer, 1.02)
        # Context for 5: an ordinary command, which does not list extensions as `az version` does.
        ours = Variant("account-show-with", "az account show (extension installed)", [self.az, "account", "show"],
                       with_env.env, check=check_account)
        peer = Variant("account-show-without", "az account show (no extension)", [self.az, "account", "show"],
                       without_env.env, check=check_account)
        run_rounds("5b start-up", [ours, peer], self.profile["startup"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("5b", "Context: `az account show` with the extension installed vs without", ours, peer, 1.02)


# -- the report ------------------------------------------------------------------------------------
def machine(env):
    def first(path, prefix):
        try:
            with open(path, encoding="utf-8") as handle:
                return next((line.split(":", 1)[1].strip() for line in handle if line.startswith(prefix)), "?")
        except OSError:
            return "?"
    versions = env.az_json("version")
    extension = (versions.get("extensions") or {}).get("devops-token", "?")
    curl = subprocess.run([CURL, "--version"], capture_output=True, text=True, check=False).stdout.split(" ")[:2]
    ram_kib = int(first("/proc/meminfo", "MemTotal").split()[0] or 0)
    return ("%s, %d cores, %.1f GiB RAM; %s; Python %s; azure-cli %s; devops-token %s; %s"
            % (first("/proc/cpuinfo", "model name"), os.cpu_count(), ram_kib / (1 << 20), platform.platform(),
               platform.python_version(), versions.get("azure-cli"), extension, " ".join(curl)))


def report(bench, mode, machine_line, elapsed):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# devops-token benchmarks", "",
             "Produced by `./bench/run`%s on %s (%.0f s in all)."
             % (" --quick (smoke run)" if mode == "quick" else "", now, elapsed), "",
             "**Machine:** " + machine_line, "",
             "| # | Figure | devops-token | Peer | Ratio (ours / peer) | Goal | Met | Rounds (per-round ratios) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += ["| %s |" % " | ".join(row) for row in bench.rows]
    lines += ["", "Every run, per variant (wall time from start to exit; CPU = user + system of the process and its "
              "children; RSS = peak resident set of the largest process):", "",
              "| Variant | Command | Runs | Median | Min | Max | Median CPU | Median peak RSS |",
              "|---|---|---|---|---|---|---|---|"]
    for variant in bench.variants:
        values = variant.values()
        lines.append("| %s | %s | %d | %.3f s | %.3f s | %.3f s | %.3f s | %s |" % (
            variant.key, variant.label.replace("|", "\\|"), len(values), statistics.median(values), min(values),
            max(values), variant.median("cpu"), megabytes(variant.median("max_rss"))))
    lines += ["", "How it was measured:", "",
              "- Paired rounds: in each round every variant of a figure runs once, back to back, the order rotating "
              "from round to round; times are medians over the rounds, a ratio is the median of the per-round "
              "ratios. One unrecorded warm-up run per variant first (not for the `az rest` loop: 100 processes).",
              "- The real `az` (azure-cli from the venv) with the extension installed from the wheel "
              "(`az extension add --source`), logged in as a service principal, against the loopback emulator "
              "(HTTPS on 127.0.0.1, throwaway CA; curl gets it with `--cacert`). Token caches warm, as in daily use.",
              "- " + bench.cpu_note,
              "- Every output is checked outside the timed span: token shape, the number of distinct projects, the "
              "artifact's size and sha256 (`emulator.devops.artifact_sha256`).",
              "- Figure 3: the projects list pages with `x-ms-continuationtoken`; `az rest` shows response headers "
              "only in its `--debug` log, so that loop reads the token from there. Both loops include their "
              "`az account get-access-token` (the curl loop fetches one token, then runs one curl per page).",
              "- Figure 4: curl uses a token fetched beforehand; throughput is the artifact's size over the whole "
              "command's wall time (az start-up and token included for ours). Files are deleted after each run. "
              "Peak RSS is GNU time's `%M` for the command (a direct child of the bench would inherit the bench's "
              "own high-water mark through exec).",
              "- Figure 5: two config dirs copied from one, one with `AZURE_EXTENSION_DIR` holding the extension, "
              "one with an empty extension dir; each command index built before timing.", ""]
    return "\n".join(lines)


def cpu_pinning(enabled):
    """Pin this thread (and so the emulator threads it starts) to the first CPU; returns the client CPUs."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not enabled or len(cpus) < 2:
        return None, "The emulator (threads of the bench process) and the measured commands share all CPUs."
    os.sched_setaffinity(0, {cpus[0]})
    return set(cpus[1:]), ("The emulator runs as threads of the bench process pinned to CPU %d; every measured "
                           "command runs pinned to CPU %s (`sched_setaffinity`), so server and client do not "
                           "compete for a core." % (cpus[0], ",".join(str(c) for c in cpus[1:])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run; the table is not saved")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the emulator and the clients to CPUs")
    parser.add_argument("--only", nargs="+", choices=("token", "call", "paging", "download", "startup"),
                        help="run only these figures (the table is then not saved)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    wheels = sorted(glob.glob(os.path.join(REPO, "dist", "devops_token-*-py3-none-any.whl")))
    if not wheels:
        raise SystemExit("bench: no wheel in dist/; run scripts/bootstrap (bench/run does)")
    started = time.perf_counter()
    client_cpus, cpu_note = cpu_pinning(not args.no_pin)
    with tempfile.TemporaryDirectory(prefix="devops-token-bench-") as workdir:
        with Emulator(os.path.join(workdir, "emulator"), max_seconds=3600, max_requests=1_000_000) as emu:
            if client_cpus:
                os.sched_setaffinity(0, client_cpus)  # this thread, and so every command it starts
            env = AzEnv(emu, os.path.join(workdir, "config"), extension_dir=os.path.join(workdir, "extensions"))
            env.az("extension", "add", "--source", wheels[-1], "--yes", check=True)
            env.register_cloud()
            env.login_service_principal("ci-bot")
            bench = Bench(emu, env, workdir, PROFILES[mode], cpu_note)
            for figure in args.only or ("token", "call", "paging", "download", "startup"):
                print("bench: figure %s" % figure, file=sys.stderr, flush=True)
                getattr(bench, figure)()
            text = report(bench, mode, machine(env), time.perf_counter() - started)
    print(text)
    if mode == "full" and not args.only:
        with open(RESULTS, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("bench: written to %s" % os.path.relpath(RESULTS, os.getcwd()), file=sys.stderr)


if __name__ == "__main__":
    main()
