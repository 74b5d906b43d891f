"""The --paginate --parallel figures (issue 13): `az devops-rest call --paginate` over the 10,000 projects of the
big organization (100 pages of 100, +20 ms server time per request, as figure 3), with the method of the other
figures (paired rounds, rotating order, medians, every output checked outside the timed span). ``python -m bench
--only paginate`` runs them alone.

P1. ``--parallel 4`` vs one page at a time (``--paginate`` alone). Goal: >= 2x faster for the whole command
    (az start-up, token and the output of 10,000 items included; the issue measured the fetching alone 3.6x faster).
P2. ``--parallel 8`` vs one page at a time. Goal: >= 2.5x faster.
P3. ``--parallel 8`` vs the curl loop of figure 3b (one token, then one curl per page, back to back). Reported.
P4. the fetching alone, as the issue measured it (from the first page's request to the last page's answer, read from
    the emulator's request log: no az start-up, no output): ``--parallel 4`` and ``8`` vs one page at a time.
    Goals from the issue's prototype (0.68 s and 0.40 s against 2.44 s): >= 3x and >= 5x faster.
"""
import os
import statistics

from bench.checks import check_projects, remove
from bench.figures import BIG_ORG, BIG_ORG_ITEMS, PAGE_LATENCY_MS
from bench.measure import Variant, paired_ratio, run_rounds
from emulator.constants import AZURE_DEVOPS_RESOURCE


def run_figures(bench):
    """Add rows P1-P3 to ``bench`` (a bench.figures.Bench)."""
    pages = bench.profile["paging_pages"]
    items = pages * 100
    org = bench.emu.org_url(BIG_ORG)
    check = check_projects(items)

    spans = {}   # variant key -> seconds spent fetching, per run (the warm-up first)

    def fetch_span(key, then=None):
        """After each run: the first request to the last answer (+ the server time of the last page), from the
        emulator's log, which is then cleared for the next run."""
        def after():
            times = [e["time"] for e in bench.emu.log.entries() if e["path"].endswith("/_apis/projects")]
            bench.emu.log.clear()
            spans.setdefault(key, []).append(max(times) - min(times) + PAGE_LATENCY_MS / 1000.0)
            if then:
                then()
        return after

    def paginate(key, label, *parallel):
        argv = [bench.az, "devops-rest", "call", "--org", org, "--path", "_apis/projects", "--paginate", *parallel]
        if items < BIG_ORG_ITEMS:
            argv += ["--max-items", str(items)]
        return Variant(key, label, argv, bench.env.env, check=check, after=fetch_span(key))

    one = paginate("paginate-1", "az devops-rest call … --paginate (one page at a time)")
    four = paginate("paginate-4", "az devops-rest call … --paginate --parallel 4", "--parallel", "4")
    eight = paginate("paginate-8", "az devops-rest call … --paginate --parallel 8", "--parallel", "8")
    out = os.path.join(bench.workdir, "paginate-curl.json")
    curl_loop = Variant("paginate-curl-loop", "az account get-access-token + a curl per page",
                        bench.bash("curl_loop", bench.az, AZURE_DEVOPS_RESOURCE, bench.ca, org + "/_apis/projects",
                                   out, str(pages)),
                        bench.client_env, check=lambda _: check(out), after=fetch_span("curl", remove(out)))
    variants = [one, four, eight, curl_loop]
    bench.devops.set_latency(PAGE_LATENCY_MS)
    bench.emu.log.clear()
    try:
        run_rounds("P paginate", variants, bench.profile["paging"], bench.workdir)
    finally:
        bench.devops.set_latency(0)
    bench.variants += variants
    what = "%s projects (%d pages of 100, +%d ms per request)" % (format(items, ","), pages, PAGE_LATENCY_MS)
    for number, ours, goal in (("P1", four, 2.0), ("P2", eight, 2.5)):
        ratio, spread = paired_ratio(ours, one)
        bench.row(number, "`--paginate %s` vs `--paginate` one page at a time, %s"
                  % (" ".join(ours.argv[ours.argv.index("--parallel"):][:2]), what),
                  "%.2f s" % ours.median(), "%.2f s" % one.median(), "%.3f× (%.1f× faster)" % (ratio, 1 / ratio),
                  "≤ %.2f× (≥ %.1f× faster)" % (1 / goal, goal), ratio <= 1 / goal, spread)
    ratio, spread = paired_ratio(eight, curl_loop)
    bench.row("P3", "`--paginate --parallel 8` vs a curl loop with one token (token fetch included), %s" % what,
              "%.2f s" % eight.median(), "%.2f s" % curl_loop.median(), "%.3f×" % ratio, "reported", True, spread)
    for number, key, goal in (("P4a", "paginate-4", 3.0), ("P4b", "paginate-8", 5.0)):
        ours, peer = spans[key][1:], spans["paginate-1"][1:]   # the warm-up runs left out
        ratios = [a / b for a, b in zip(ours, peer)]
        ratio = statistics.median(ratios)
        bench.row(number, "Fetching alone (first request to last answer, from the emulator's log): `--parallel %s` vs "
                  "one page at a time, %s" % (key.rsplit("-", 1)[1], what), "%.2f s" % statistics.median(ours),
                  "%.2f s" % statistics.median(peer), "%.3f× (%.1f× faster)" % (ratio, 1 / ratio),
                  "≤ %.2f× (≥ %.0f× faster)" % (1 / goal, goal), ratio <= 1 / goal,
                  "%d (range %.2f–%.2f)" % (len(ratios), min(ratios), max(ratios)))
