"""Running and measuring commands: one measured run (:func:`run_measured`), a figure's variants
(:class:`Variant`) run in paired rounds (:func:`run_rounds`), and the paired ratio of two variants."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MB = 1000 * 1000


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
