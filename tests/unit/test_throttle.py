"""Delay-mode throttling (azext_devopstoken._throttle): a 200's Retry-After is waited before the next request."""
from types import SimpleNamespace

from requests.structures import CaseInsensitiveDict

from azext_devopstoken._http import RetryPolicy
from azext_devopstoken._throttle import pause_if_asked


def _response(status, **headers):
    return SimpleNamespace(status_code=status, headers=CaseInsensitiveDict(headers))


def test_a_200_with_retry_after_waits_within_the_budget():
    slept = []
    assert pause_if_asked(_response(200, **{"Retry-After": "3", "X-RateLimit-Delay": "0.5"}), RetryPolicy(),
                          sleep=slept.append) == 3.0
    assert slept == [3.0]
    assert pause_if_asked(_response(200, **{"Retry-After": "300"}), RetryPolicy(max_wait=10),
                          sleep=slept.append) == 10
    assert pause_if_asked(_response(200), RetryPolicy(), sleep=slept.append) == 0.0
    assert pause_if_asked(_response(429, **{"Retry-After": "3"}), RetryPolicy(), sleep=slept.append) == 0.0
    assert slept == [3.0, 10]
