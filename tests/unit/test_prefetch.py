"""--paginate --parallel N with the HTTP layer faked at ``_pages.fetch``: the result is the one-page-at-a-time result
whatever order the pages finish in, at most N requests are in flight, at most N-1 are sent for nothing, and the
stops, the fallback to one page at a time, errors, throttling and -i heads all hold."""
import json
import logging
import threading
import time
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import AzureResponseError
from requests.structures import CaseInsensitiveDict

from azext_devopstoken import _pages
from azext_devopstoken._http import RetryPolicy, Transport
from azext_devopstoken._options import CallOptions
from azext_devopstoken._request import CallSpec

URL = "https://dev.azure.com/contoso/_apis/things"


class FakeList:
    """``total`` items, served by ``$top``/``$skip`` (``token``: or by a continuation token the function makes from
    the offset of the next page), recording every request, the order they finish in and the peak in flight."""

    def __init__(self, total, top=100, token=None, delay=None, ignore_skip=False, fail=None, headers=None):
        self.total, self.top, self.token, self.delay = total, top, token, delay or (lambda start: 0)
        self.ignore_skip, self.fail, self.extra_headers = ignore_skip, fail or (lambda start: None), headers or {}
        self.asked, self.finished, self.arrived, self.answered = [], [], [], {}
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, client, method, url, params, headers, body, held):
        query = dict(params or ())
        with self._lock:
            self.asked.append(query)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        start = None
        try:
            start = self._start(query)
            self.arrived.append((time.monotonic(), start))
            time.sleep(self.delay(start))
            self.fail(start)
            top = int(query.get("$top", self.top))
            items = list(range(self.total))[start:start + top]
            response = SimpleNamespace(status_code=200, headers=CaseInsensitiveDict(self.extra_headers.get(start, {})),
                                       close=lambda: None, start=start)
            if self.token and start + top < self.total:
                response.headers["x-ms-continuationtoken"] = self.token(start + top)
            if client.on_response is not None:
                client.on_response(response)   # as DevOpsClient.send_raw does for every final response
            self.answered[start] = time.monotonic()
            return response, json.dumps({"count": len(items), "value": [{"id": i} for i in items]}).encode()
        finally:
            with self._lock:
                self.in_flight -= 1
                self.finished.append(start)

    def _start(self, query):
        if "continuationToken" in query:
            return int(query["continuationToken"].lstrip("t"))
        return 0 if self.ignore_skip else int(query.get("$skip", 0))

    @property
    def skips(self):
        return [int(str(q.get("continuationToken", q.get("$skip", 0))).lstrip("t")) for q in self.asked]


class FakeClient:
    def __init__(self):
        self.transport = Transport(policy=RetryPolicy(max_wait=30))
        self.on_response = None

    @staticmethod
    def owns(url):
        return True


def run(monkeypatch, fake, parallel=None, params=(("$top", "100"),), **options):
    monkeypatch.setattr(_pages, "fetch", fake)
    client = FakeClient()
    spec = CallSpec("GET", URL, list(params), CaseInsensitiveDict(), None)
    with client.transport:
        return _pages.paginate(CallOptions(path="_apis/things", paginate=True, parallel=parallel, **options), spec,
                               client)


@pytest.fixture
def warnings(monkeypatch):
    """The warnings the extension logs (knack's console handler may still write to an earlier test's stderr)."""
    logged = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: logged.append(record.getMessage())
    logger = logging.getLogger("cli.azext_devopstoken")
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    return logged


def ids(document):
    return [item["id"] for item in document["value"]]


def test_pages_finishing_out_of_order_are_merged_in_order(monkeypatch):
    # Within each window of 4 the first page is the slowest: they finish last-first.
    fake = FakeList(1030, delay=lambda start: 0.05 * (3 - (start // 100) % 4))
    document = run(monkeypatch, fake, parallel=4)
    assert ids(document) == list(range(1030)) and document["count"] == 1030
    assert fake.finished != sorted(fake.finished)          # they did finish out of order
    assert fake.peak == 4                                  # four in flight, never more
    assert set(range(0, 1100, 100)) <= set(fake.skips)     # $skip 0..1000: the 11 pages,
    assert len(set(fake.skips)) == len(fake.skips) <= 11 + 3   # each asked once, and at most N-1 past the end


def test_the_result_is_the_one_page_at_a_time_result(monkeypatch):
    one = FakeList(730)
    sequential = run(monkeypatch, one)
    for parallel in (2, 4, 8, 32):
        fake = FakeList(730)
        assert run(monkeypatch, fake, parallel=parallel) == sequential
        assert set(range(0, 800, 100)) <= set(fake.skips) and len(set(fake.skips)) == len(fake.skips)
        assert len(fake.asked) <= 8 + parallel - 1
        assert fake.peak <= parallel
    assert one.peak == 1 and len(one.asked) == 8


def test_without_top_the_first_page_sets_the_size_and_an_empty_page_ends_it(monkeypatch):
    fake = FakeList(1000)
    document = run(monkeypatch, fake, parallel=4, params=())
    assert ids(document) == list(range(1000))
    assert fake.asked[0] == {} and {"$top": "100", "$skip": "100"} in fake.asked
    assert 11 <= len(fake.asked) <= 11 + 3   # 10 full pages, the empty 11th, at most 3 beyond it


def test_max_pages_and_max_items_bound_what_is_fetched_ahead(monkeypatch):
    fake = FakeList(5000)
    document = run(monkeypatch, fake, parallel=8, max_pages=5)
    assert len(document["value"]) == 500 and len(fake.asked) == 5
    fake = FakeList(5000)
    document = run(monkeypatch, fake, parallel=8, max_items=250)
    assert ids(document) == list(range(250)) and len(fake.asked) == 3


def test_a_server_that_ignores_skip_is_stopped_as_one_page_at_a_time_stops_it(monkeypatch, warnings):
    sequential = run(monkeypatch, FakeList(500, ignore_skip=True))
    fake = FakeList(500, ignore_skip=True)
    assert run(monkeypatch, fake, parallel=4) == sequential and ids(sequential) == list(range(100))
    assert len(fake.asked) <= 2 + 3
    assert "--paginate: the server answered $skip with a page seen before; stopping." in warnings


def test_counting_tokens_are_fetched_ahead(monkeypatch):
    # The projects list: x-ms-continuationtoken is the number of items fetched so far.
    sequential = run(monkeypatch, FakeList(1030, token=str), params=())
    fake = FakeList(1030, token=str, delay=lambda start: 0.05 * (3 - (start // 100) % 4))
    assert run(monkeypatch, fake, parallel=4, params=()) == sequential and len(sequential["value"]) == 1030
    assert fake.peak == 4 and fake.finished != sorted(fake.finished)
    assert {"continuationToken": "100"} in fake.asked and len(fake.asked) <= 11 + 3


def test_opaque_tokens_stay_one_at_a_time(monkeypatch):
    fake = FakeList(1030, token=lambda offset: "t%d" % offset)
    document = run(monkeypatch, fake, parallel=4, params=())
    assert len(document["value"]) == 1030 and fake.peak == 1 and len(fake.asked) == 11


def test_tokens_that_stop_counting_fall_back_to_one_at_a_time(monkeypatch):
    def token(offset):   # counts up to 300, then jumps ahead
        return str(offset if offset < 300 else offset + 5)
    one = FakeList(1030, token=token)
    sequential = run(monkeypatch, one, params=())
    fake = FakeList(1030, token=token)
    assert run(monkeypatch, fake, parallel=4, params=()) == sequential
    expected = [q.get("continuationToken") for q in one.asked]          # None, 100, 200, 305, 410, ...
    tokens = [q.get("continuationToken") for q in fake.asked]
    assert set(expected) <= set(tokens) and len(set(tokens)) == len(tokens)
    assert set(tokens) - set(expected) <= {"300", "400", "500"}   # one wrong guess of at most N-1 pages, then none


def test_a_skip_list_whose_page_carries_a_token_follows_the_token(monkeypatch):
    headers = {200: {"x-ms-continuationtoken": "t250"}}
    sequential = run(monkeypatch, FakeList(1030, headers=headers))
    fake = FakeList(1030, headers=headers)
    document = run(monkeypatch, fake, parallel=4)
    assert document == sequential and ids(document) == list(range(300)) + list(range(250, 350))
    assert {"$top": "100", "continuationToken": "t250"} in fake.asked and len(fake.asked) <= 4 + 3


def test_an_error_on_a_page_is_raised_and_errors_past_the_end_are_not(monkeypatch):
    def fail_at_300(start):
        if start == 300:
            raise AzureResponseError("Azure DevOps answered 500 Internal Server Error.")
    fake = FakeList(1030, fail=fail_at_300)
    with pytest.raises(AzureResponseError, match="500"):
        run(monkeypatch, fake, parallel=4)
    assert fake.in_flight == 0 and len(fake.asked) <= 4 + 3   # the workers were waited for; nothing sent after

    def fail_past_the_end(start):
        if start >= 300:
            raise AzureResponseError("Azure DevOps answered 404.")
    fake = FakeList(250, fail=fail_past_the_end)
    assert ids(run(monkeypatch, fake, parallel=4)) == list(range(250))


def test_a_delayed_answer_holds_every_worker(monkeypatch, warnings):
    fake = FakeList(800, headers={100: {"Retry-After": "1", "X-RateLimit-Resource": "Core"}})
    assert ids(run(monkeypatch, fake, parallel=4)) == list(range(800))
    delayed_at = fake.answered[100]
    later = [at for at, _ in fake.arrived if at > delayed_at + 0.1]
    assert later and min(later) >= delayed_at + 0.9   # nobody started during the Retry-After of 1 s
    assert warnings == ["Azure DevOps is delaying requests (resource Core) and asks to wait 1.0 s before the next "
                        "one; waiting."]


def test_include_heads_come_in_page_order_and_never_for_a_discarded_page(monkeypatch):
    fake = FakeList(730, delay=lambda start: 0.03 * (3 - (start // 100) % 4))
    monkeypatch.setattr(_pages, "fetch", fake)
    client = FakeClient()
    heads = []
    client.on_response = lambda response: heads.append(response.start)
    spec = CallSpec("GET", URL, [("$top", "100")], CaseInsensitiveDict(), None)
    _pages.paginate(CallOptions(path="p", paginate=True, parallel=4), spec, client)
    assert heads == list(range(0, 800, 100))   # those fetched beyond the end (800, ...) wrote none
    assert fake.finished != sorted(fake.finished)


def test_the_pool_holds_n_connections(monkeypatch):
    from azext_devopstoken._prefetch import Prefetcher
    client = FakeClient()
    with Prefetcher(client, 12, lambda url, params: None):
        adapter = client.transport.session.get_adapter("https://dev.azure.com/")
        assert adapter.poolmanager.connection_pool_kw["maxsize"] == 12
        assert client.transport.on_retry is not None
    assert client.transport.on_retry is None
