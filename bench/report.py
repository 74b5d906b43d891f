"""The report: the machine it ran on and the Markdown table written to bench/RESULTS.md."""
import datetime
import platform
import statistics
import os
import subprocess

from bench.figures import CURL
from bench.measure import megabytes


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
              "artifact's size and sha256 (`emulator.devops.artifacts.artifact_sha256`).",
              "- Figure 3: the projects list pages with `x-ms-continuationtoken`; `az rest` shows response headers "
              "only in its `--debug` log, so that loop reads the token from there. Both loops include their "
              "`az account get-access-token` (the curl loop fetches one token, then runs one curl per page).",
              "- Figure 4: curl uses a token fetched beforehand; throughput is the artifact's size over the whole "
              "command's wall time (az start-up and token included for ours). Files are deleted after each run. "
              "Peak RSS is GNU time's `%M` for the command (a direct child of the bench would inherit the bench's "
              "own high-water mark through exec).",
              "- Figure 5: two config dirs copied from one, one with `AZURE_EXTENSION_DIR` holding the extension, "
              "one with an empty extension dir; each command index built before timing.",
              "- Figures B1–B3 (`bench.batch`): GETs of distinct projects of a 10,000-project organization. B1 "
              "compares per call (a batch's wall time over its requests vs a shell loop's over its calls; the loop "
              "runs fewer calls, in fewer rounds). B3's floor is one Python process with plain `requests`, one "
              "Session per thread and a token fetched beforehand: what is left is az's start-up and the engine.", ""]
    return "\n".join(lines)
