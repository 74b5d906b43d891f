import email.utils
import time

import pytest
import requests
from requests.structures import CaseInsensitiveDict

import failure_chains

from azext_devopstoken import _http


class _Response:
    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers or {})
        self.reason = "Reason"


@pytest.mark.parametrize("method, status, headers, retry", [
    ("GET", 429, {}, True),
    ("POST", 429, {}, True),
    ("POST", 503, {"Retry-After": "3"}, True),
    ("POST", 503, {}, False),
    ("PATCH", 502, {}, False),
    ("GET", 502, {}, True),
    ("GET", 504, {}, True),
    ("GET", 503, {"X-VSS-HostOfflineError": "true"}, False),
    ("GET", 500, {}, False),
    ("GET", 404, {}, False),
])
def test_status_retry_rules(method, status, headers, retry):
    assert _http.status_is_retryable(method, _Response(status, headers)) is retry


def test_retry_after_seconds_and_http_date():
    assert _http.retry_after_seconds(_Response(429, {"Retry-After": "7"})) == 7.0
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _http.retry_after_seconds(_Response(429, {"Retry-After": date})) <= 31
    assert _http.retry_after_seconds(_Response(429, {"Retry-After": "soon"})) is None
    assert _http.retry_after_seconds(_Response(429)) is None


@pytest.mark.parametrize("method, error, retry", [
    ("POST", requests.exceptions.ConnectTimeout("x"), True),
    ("POST", failure_chains.refused_as_built(), True),
    ("POST", requests.exceptions.ConnectionError("Connection reset by peer"), False),
    ("GET", requests.exceptions.ConnectionError("Connection reset by peer"), True),
    ("GET", requests.exceptions.ReadTimeout("x"), True),
    ("PATCH", requests.exceptions.ReadTimeout("x"), False),
])
def test_connection_error_retry_rules(method, error, retry):
    assert _http.connection_error_is_retryable(method, error) is retry


def test_backoff_is_bounded_and_jittered():
    policy = _http.RetryPolicy(backoff=1.0, backoff_max=4.0)
    delays = [policy.backoff_delay(attempt) for attempt in range(10) for _ in range(20)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) > 10


def test_redacted_headers():
    shown = _http.redacted_headers({"Authorization": "Bearer abc", "Accept": "x", "cookie": "c"})
    assert shown == {"Authorization": "<redacted>", "Accept": "x", "cookie": "<redacted>"}
    # A token in a header of another name is hidden too (the rule -i uses).
    assert _http.redacted_headers({"X-Token": "Bearer eyJhIjoxfQ.eyJiIjoyfQ.c2ln"}) == {"X-Token": "<redacted>"}
