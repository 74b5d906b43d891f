"""Benchmarks of devops-token against its peers, on the bundled loopback emulator. Run through bench/run
(``python -m bench``).

The real ``az`` (the venv's azure-cli) with the extension installed from the wheel, in a throwaway
AZURE_CONFIG_DIR, logged in as the emulator's service principal ci-bot. Five figures:

1. ``az devops-token get`` vs ``az account get-access-token --resource <Azure DevOps>``;
2. ``az devops-rest call --path _apis/projects`` vs ``az rest --resource … --url …`` and vs the documented
   recipe (``az account get-access-token … --query accessToken -o tsv``, then curl with the token);
3. paging 10,000 projects (100 pages of 100, 20 ms added per request): ``--paginate`` vs a shell loop of
   ``az rest`` following ``x-ms-continuationtoken``, and vs a curl loop with one token;
4. a 1 GiB ``--output-file`` download: peak RSS of the az process, and throughput vs ``curl -o``;
5. ``az version`` start-up with the extension installed vs without (and ``az account show``, for context);
P. ``--paginate --parallel 4`` and ``8`` over the same 10,000 projects vs one page at a time, and vs the curl loop
   (:mod:`bench.paginate`);
B. ``az devops-rest batch`` (:mod:`bench.batch`): per call vs a shell loop of ``az devops-rest call``,
   ``--parallel 8`` vs ``--parallel 1``, and vs the floor (plain requests, no az).

Method: each figure runs in *rounds*; in a round every variant runs once, back to back, in an order that
rotates from round to round, so drift on the machine hits all of them alike. A figure is the median over the
rounds; a ratio is the median of the per-round ratios (ours / peer). One unrecorded warm-up run per variant
comes first (command index, MSAL token cache, the organization's tenant cache, .pyc files). Every run's output
is checked (token shape, item counts, the artifact's sha256) outside the timed span, so a wrong answer cannot
look fast. Wall time is measured around the child process, CPU time comes from ``os.wait4``, peak RSS from
GNU time (see :func:`run_measured`).

Modules: :mod:`bench.measure` (running and timing commands, paired rounds), :mod:`bench.checks` (every
output validated), :mod:`bench.figures` (the five figures), :mod:`bench.paginate` (the --parallel paging figures),
:mod:`bench.batch` (the batch figures), :mod:`bench.report` (the Markdown table), and
``__main__`` (options, the emulator and az set-up).

The emulator runs in this process (threads). On a machine with two or more CPUs it is pinned to the first
CPU and every measured command to the others (``sched_setaffinity``), so the server and the client do not
compete for one core; ``--no-pin`` turns that off.
"""
