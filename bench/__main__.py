"""``python -m bench`` (what bench/run runs): options, the emulator and az set-up, the figures, the report."""
import argparse
import glob
import os
import sys
import tempfile
import time

from bench import __doc__ as DESCRIPTION
from bench.batch import run_figures as run_batch_figures
from bench.figures import Bench
from bench.paginate import run_figures as run_paginate_figures
from bench.report import machine, report
from emulator.app import Emulator
from emulator.azenv import AzEnv

FIGURES = ("token", "call", "paging", "paginate", "download", "startup", "batch")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "bench", "RESULTS.md")

# Full run, and --quick (a smoke run: fewer rounds, 1,000 items, 64 MiB; not written to RESULTS.md).
PROFILES = {
    "full": {"token": 20, "call": 20, "paging": 5, "paging_az_rest": 3, "paging_pages": 100, "download": 5,
             "download_size": 1 << 30, "startup": 25},
    "quick": {"token": 3, "call": 3, "paging": 1, "paging_az_rest": 1, "paging_pages": 10, "download": 1,
              "download_size": 64 << 20, "startup": 5},
}


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
    parser = argparse.ArgumentParser(prog="bench/run", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run; the table is not saved")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the emulator and the clients to CPUs")
    parser.add_argument("--only", nargs="+", choices=FIGURES,
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
            for figure in args.only or FIGURES:
                print("bench: figure %s" % figure, file=sys.stderr, flush=True)
                if figure == "batch":
                    run_batch_figures(bench, mode)
                elif figure == "paginate":
                    run_paginate_figures(bench)
                else:
                    getattr(bench, figure)()
            text = report(bench, mode, machine(env), time.perf_counter() - started)
    print(text)
    if mode == "full" and not args.only:
        with open(RESULTS, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("bench: written to %s" % os.path.relpath(RESULTS, os.getcwd()), file=sys.stderr)


if __name__ == "__main__":
    main()
