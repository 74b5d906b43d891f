"""The batch engine with fake ``send`` functions: ordering, streaming, bounded look-ahead, bad lines, stopping,
the shared throttling gate, interrupts and constant memory."""
import io
import json
import os
import random
import signal
import threading
import time
import tracemalloc

import pytest

from azext_devopstoken._batch import RequestFailed, TerminalProgress, run_batch
from azext_devopstoken._batch_gate import ThrottleGate, near_limit, retry_after
from azext_devopstoken._batch_input import BatchRequest, read_requests


def request_lines(count, **extra):
    return [json.dumps(dict({"path": "_apis/items/%d" % i, "id": "r%d" % i}, **extra)) for i in range(count)]


def echo(request):
    return 200, {}, {"path": request.path, "method": request.method}


def results(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


class Consumed:
    """An input that records how many lines have been taken from it."""

    def __init__(self, lines):
        self.lines, self.taken = lines, 0

    def __iter__(self):
        for line in self.lines:
            self.taken += 1
            yield line


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self):
        self.now, self.sleeps, self._lock = 0.0, [], threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


# -- order and streaming -----------------------------------------------------------------------------
def test_results_come_in_input_order_whatever_order_requests_finish_in():
    finished = []

    def send(request):
        time.sleep(random.uniform(0, 0.004))
        finished.append(request.index)
        return 200, {}, {"n": request.index}

    out = io.StringIO()
    summary = run_batch(request_lines(200), send, out, parallel=8)
    lines = results(out)
    assert [r["index"] for r in lines] == list(range(200))
    assert [r["id"] for r in lines] == ["r%d" % i for i in range(200)]
    assert all(r["status"] == 200 and r["body"] == {"n": r["index"]} for r in lines)
    assert finished != sorted(finished), "the delays should have made requests finish out of order"
    assert (summary.lines, summary.succeeded, summary.failed, summary.exit_code) == (200, 200, 0, 0)


def test_each_result_is_one_compact_flushed_line():
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self):
            self.flushes += 1

    out = Recorder()
    run_batch(request_lines(5), lambda r: (200, {}, {"text": "a\nb é"}), out, parallel=2)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and out.flushes >= 5
    assert lines[0] == '{"index":0,"id":"r0","status":200,"body":{"text":"a\\nb é"}}'


def test_line_zero_is_written_long_before_line_999_is_read():
    source = Consumed(request_lines(1000))
    taken_at_first_write = []

    class Out(io.StringIO):
        def write(self, text):
            if not taken_at_first_write:
                taken_at_first_write.append(source.taken)
            return super().write(text)

    run_batch(source, echo, Out(), parallel=4, look_ahead=4)
    assert source.taken == 1000
    assert taken_at_first_write[0] <= 4 * 4 + 1


def test_reading_never_runs_more_than_the_window_ahead_of_writing():
    source = Consumed(request_lines(300))
    window = 3 * 2
    seen_while_blocked = []

    def send(request):
        if request.index == 0:  # the head of the line stays unanswered while the others finish
            deadline = time.monotonic() + 5
            while source.taken < window and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.1)
            seen_while_blocked.append(source.taken)
        return echo(request)

    out = io.StringIO()
    run_batch(source, send, out, parallel=3, look_ahead=2)
    assert seen_while_blocked == [window]
    assert len(results(out)) == 300


def test_the_input_is_read_lazily():
    source = Consumed(request_lines(10))
    parsed = read_requests(source)
    index, request = next(parsed)
    assert source.taken == 1 and index == 0 and isinstance(request, BatchRequest)


# -- input lines ------------------------------------------------------------------------------------
def test_a_request_line_with_every_field_is_parsed():
    line = json.dumps({"method": "patch", "path": "{project}/_apis/wit/workitems/42", "id": {"k": 1},
                       "query": {"$expand": "all", "$top": 10, "x": 1.5, "flag": True},
                       "headers": {"If-Match": "3"}, "body": [{"op": "add", "path": "/f", "value": 1}]})
    (index, request), = list(read_requests([line]))
    assert index == 0 and request.method == "PATCH" and request.request_id == {"k": 1}
    assert request.query == [("$expand", "all"), ("$top", "10"), ("x", "1.5"), ("flag", "true")]
    assert request.headers == {"If-Match": "3"} and request.body[0]["op"] == "add"
    (_, minimal), = list(read_requests(['{"path": "_apis/projects"}']))
    assert (minimal.method, minimal.query, minimal.headers, minimal.body, minimal.has_id) == (
        "GET", [], {}, None, False)


@pytest.mark.parametrize("line, message", [
    ("not json", "is not valid JSON"),
    ('["_apis/projects"]', "must be a JSON object"),
    ('{"id": 7}', '"path" must be a non-empty string'),
    ('{"path": "  "}', '"path" must be a non-empty string'),
    ('{"path": "a", "params": {}}', "unknown key 'params'"),
    ('{"path": "a", "method": "FETCH"}', '"method" must be one of'),
    ('{"path": "a", "method": 1}', '"method" must be one of'),
    ('{"path": "a", "query": [1]}', '"query" must be an object'),
    ('{"path": "a", "query": {"x": {"y": 1}}}', '"x" is a object'),
    ('{"path": "a", "query": {"x": null}}', '"x" is a null'),
    ('{"path": "a", "headers": {"Accept": 1}}', '"Accept" is a number'),
    ('{"path": "a", "headers": {"X": "a\\r\\nEvil: 1"}}', "line break"),
    (b'{"path": "\xff"}', "not valid UTF-8"),
])
def test_a_bad_line_gets_its_own_error_and_the_others_still_run(line, message):
    sent = []

    def send(request):
        sent.append(request.index)
        return echo(request)

    lines = [request_lines(1)[0].encode() if isinstance(line, bytes) else request_lines(1)[0], line,
             request_lines(1)[0]]
    out = io.StringIO()
    summary = run_batch(lines, send, out, parallel=2)
    good, bad, good_again = results(out)
    assert good["status"] == 200 and good_again["status"] == 200 and sorted(sent) == [0, 2]
    assert bad["index"] == 1 and bad["status"] is None and bad["errorKind"] == "input"
    assert message in bad["error"] and "\n" not in bad["error"]
    assert summary.failed == 1 and summary.exit_code == 1


def test_blank_lines_get_no_result_but_keep_the_line_numbers():
    lines = ['{"path": "a"}', "", "   \t", '{"path": "b", "id": null}', "\n"]
    out = io.StringIO()
    summary = run_batch(lines, echo, out)
    assert results(out) == [{"index": 0, "status": 200, "body": {"path": "a", "method": "GET"}},
                            {"index": 3, "id": None, "status": 200, "body": {"path": "b", "method": "GET"}}]
    assert summary.lines == 2


def test_the_id_of_an_invalid_request_is_still_copied():
    out = io.StringIO()
    run_batch(['{"id": "x1", "path": "a", "method": "FETCH"}'], echo, out)
    assert results(out)[0]["id"] == "x1"


# -- failures ---------------------------------------------------------------------------------------
def test_refusals_http_errors_and_lost_answers_each_have_their_shape():
    from azure.cli.core.azclierror import InvalidArgumentValueError

    def prepare(request):
        if request.path == "refuse":
            raise InvalidArgumentValueError("Refusing to send the Azure DevOps token to evil.example.")
        return request

    def send(request):
        if request.path == "missing":
            return 404, {"Content-Type": "application/json"}, {"$id": "1", "message": "TF401232: Work item\n42 "
                                                               "does not exist.", "typeKey": "WorkItemNotFound"}
        if request.path == "html":
            return 429, {}, "<html><body>Too many</body></html>"
        if request.path == "lost":
            raise RequestFailed("Cannot reach Azure DevOps: the connection was reset.")
        if request.path == "bug":
            raise KeyError("oops")
        return 204, {}, None

    lines = [json.dumps({"path": p}) for p in ("refuse", "missing", "html", "lost", "bug", "fine")]
    out = io.StringIO()
    summary = run_batch(lines, send, out, prepare=prepare)
    refused, missing, html, lost, bug, fine = results(out)
    assert refused == {"index": 0, "status": None, "errorKind": "refused",
                       "error": "Refusing to send the Azure DevOps token to evil.example."}
    assert missing["status"] == 404 and missing["errorKind"] == "http"
    assert missing["error"] == "Azure DevOps answered 404: TF401232: Work item 42 does not exist."
    assert missing["body"]["typeKey"] == "WorkItemNotFound"
    assert html["error"] == "Azure DevOps answered 429." and html["body"].startswith("<html>")
    assert lost == {"index": 3, "status": None, "errorKind": "network",
                    "error": "Cannot reach Azure DevOps: the connection was reset."}
    assert bug["errorKind"] == "internal" and "KeyError" in bug["error"]
    assert fine == {"index": 5, "status": 204, "body": None}
    assert (summary.succeeded, summary.failed, summary.exit_code) == (1, 5, 1)


def test_stop_on_error_lets_requests_in_flight_finish_and_prints_every_one_that_ran():
    sent, lock = [], threading.Lock()

    def send(request):
        with lock:
            sent.append(request.index)
        time.sleep(0.002 if request.index != 10 else 0)
        return (500, {}, {"message": "boom"}) if request.index == 10 else echo(request)

    out = io.StringIO()
    summary = run_batch(request_lines(500), send, out, parallel=4, stop_on_error=True)
    printed = [r["index"] for r in results(out)]
    assert printed == sorted(printed) and 10 in printed
    assert sorted(sent) == printed, "every request sent has its result line, and nothing else is printed"
    assert len(sent) < 10 + 4 * 4 * 2, "reading stopped soon after the failure"
    assert summary.stopped == "error" and summary.exit_code == 1 and summary.not_run == summary.lines - len(sent)


def test_without_stop_on_error_every_line_runs_after_a_failure():
    out = io.StringIO()
    summary = run_batch(request_lines(50), lambda r: (500, {}, None) if r.index == 3 else echo(r), out)
    assert len(results(out)) == 50 and summary.failed == 1 and summary.stopped is None


# -- throttling -------------------------------------------------------------------------------------
def test_a_429_with_retry_after_pauses_every_worker_until_the_deadline():
    clock = FakeClock()
    observed = threading.Event()

    class Gate(ThrottleGate):
        def leave(self, status=None, headers=None):
            pause = super().leave(status, headers)
            if pause:
                observed.set()
            return pause

    gate = Gate(4, clock=clock, sleep=clock.sleep)
    started = {}

    others_in_flight = threading.Semaphore(0)

    def send(request):
        started[request.index] = clock()
        if request.index == 0:  # answers once lines 1-3 are in flight, so every later line starts after it
            assert all(others_in_flight.acquire(timeout=5) for _ in range(3))
            return 429, {"Retry-After": "30", "X-RateLimit-Resource": "Core"}, {"message": "TF400733"}
        if request.index < 4:
            others_in_flight.release()
            assert observed.wait(5)
        return echo(request)

    out = io.StringIO()
    summary = run_batch(request_lines(20), send, out, parallel=4, gate=gate)
    assert [started[i] for i in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert all(started[i] >= 30.0 for i in range(4, 20)), started
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(30.0)
    assert summary.pauses == 1 and results(out)[0]["status"] == 429


def test_a_delayed_200_with_retry_after_pauses_too_but_a_500_does_not():
    assert retry_after(200, {"retry-after": "2", "X-RateLimit-Delay": "1.5"}) == 2.0
    assert retry_after(429, {"Retry-After": "7"}) == 7.0
    assert retry_after(429, {"Retry-After": "100000"}) == 300.0
    assert retry_after(500, {"Retry-After": "7"}) is None
    assert retry_after(200, {}) is None


def test_near_the_rate_limit_the_batch_runs_one_request_at_a_time_with_spacing():
    clock = FakeClock()
    gate = ThrottleGate(8, clock=clock, sleep=clock.sleep, spacing=0.5)
    active, most, starts, lock = [0], [0], [], threading.Lock()

    def send(request):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            starts.append(clock())
        time.sleep(0.001)
        with lock:
            active[0] -= 1
        return 200, {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "5"}, {}

    with gate_primed_low(gate):
        run_batch(request_lines(30), send, io.StringIO(), parallel=8, gate=gate)
    assert most[0] == 1
    assert all(b - a >= 0.5 for a, b in zip(starts, starts[1:]))
    assert near_limit({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "19"}) is True
    assert near_limit({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "20"}) is False
    assert near_limit({}) is None


class gate_primed_low:  # pylint: disable=invalid-name
    """Start as if an earlier answer had said the remaining budget is low."""

    def __init__(self, gate):
        self.gate = gate

    def __enter__(self):
        self.gate.observe(200, {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0"})

    def __exit__(self, *exc):
        return False


def test_the_batch_speeds_up_again_when_the_headers_recover():
    gate = ThrottleGate(4, spacing=0)
    gate.observe(200, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "1"})
    assert gate.slow
    gate.observe(200, {})
    assert not gate.slow


# -- interrupts and a closed output -------------------------------------------------------------------
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_reading_waits_for_requests_in_flight_and_prints_them(signal_number):
    before = signal.getsignal(signal_number)
    sent, lock = [], threading.Lock()

    def send(request):
        with lock:
            sent.append(request.index)
        if request.index == 5:
            os.kill(os.getpid(), signal_number)
        time.sleep(0.01)
        return echo(request)

    out = io.StringIO()
    summary = run_batch(request_lines(1000), send, out, parallel=4)
    printed = [r["index"] for r in results(out)]
    assert summary.stopped == "interrupted" and summary.exit_code == 1
    assert sorted(sent) == printed and 5 in printed and len(printed) < 500
    assert signal.getsignal(signal_number) == before


def test_a_second_ctrl_c_abandons_requests_still_in_flight():
    release = threading.Event()
    out = io.StringIO()

    def send(request):
        if request.index == 2:
            deadline = time.monotonic() + 5
            while len(out.getvalue().splitlines()) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
        if request.index >= 2:
            release.wait(10)
        return echo(request)

    started = time.monotonic()
    summary = run_batch(request_lines(100), send, out, parallel=4)
    release.set()
    assert time.monotonic() - started < 5
    assert [r["index"] for r in results(out)] == [0, 1]
    assert summary.stopped == "interrupted" and summary.not_run == summary.lines - 2


def test_progress_hears_about_every_result():
    class Progress:
        updates, ended = 0, None

        def update(self, summary):
            self.updates += 1

        def end(self, summary):
            self.ended = summary

    progress = Progress()
    summary = run_batch(request_lines(7) + ["bad"], echo, io.StringIO(), progress=progress)
    assert progress.updates == 8 and progress.ended is summary


def test_a_closed_output_stops_the_batch_quietly():
    class ClosedAfterThree(io.StringIO):
        def write(self, text):
            if len(self.getvalue().splitlines()) >= 3:
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

    out = ClosedAfterThree()
    summary = run_batch(request_lines(5000), echo, out, parallel=4)
    assert len(out.getvalue().splitlines()) == 3
    assert summary.stopped == "output" and summary.lines < 100 and summary.exit_code == 1


# -- memory -----------------------------------------------------------------------------------------
def test_memory_stays_flat_over_5000_requests_with_100_kb_bodies():
    body = "x" * 100_000

    def send(request):
        if request.index == 0:
            time.sleep(0.5)  # the head of the line is slow: everything behind it must wait in the window
        return 200, {}, body + str(request.index)

    def lines():
        for i in range(5000):
            yield '{"path": "_apis/items/%d"}' % i

    class Sink(io.StringIO):
        count = 0

        def write(self, text):
            self.count += 1
            return len(text)

    out = Sink()
    tracemalloc.start()
    try:
        summary = run_batch(lines(), send, out, parallel=4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.count == 5000 and summary.succeeded == 5000
    # Holding every result would take 500 MB (about 390 MB measured with an unbounded window); the window
    # (16 lines) needs about 2 MB.
    assert peak < 30 * 1000 * 1000, peak


# -- progress -----------------------------------------------------------------------------------------
class Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_is_shown_only_when_stderr_is_a_terminal_and_stdout_is_not():
    from azure.cli.core.mock import DummyCli
    cli = DummyCli()
    assert TerminalProgress(cli, stdout=Stream(True), stderr=Stream(True)).active is False
    assert TerminalProgress(cli, stdout=Stream(False), stderr=Stream(False)).active is False
    progress = TerminalProgress(cli, stdout=Stream(False), stderr=Stream(True))
    assert progress.active and cli.progress_controller is not None
    summary = run_batch(request_lines(3), echo, io.StringIO(), progress=progress)
    assert cli.progress_controller.reporter.message == summary.describe() == "3 lines: 3 succeeded, 0 failed."
    assert not progress.active


def test_a_byte_order_mark_at_the_start_is_skipped():
    lines = ['\ufeff{"path": "_apis/projects"}\n'.encode("utf-8"), '\ufeff{"path": "x"}\n'.encode("utf-8")]
    (first_index, first), (second_index, second) = list(read_requests(lines))
    assert (first_index, first.path) == (0, "_apis/projects")
    assert second_index == 1 and "not valid JSON" in str(second)  # only the input's first bytes may be a BOM
