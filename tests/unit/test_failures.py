"""Connection failures classified by the exception types along their chain, never by message text."""
import pytest
import requests
from urllib3 import exceptions as urllib3_errors

import failure_chains
from azext_devopstoken import _failures, _http

NAME_RESOLUTION = [failure_chains.unresolvable_urllib3_1] + (
    [failure_chains.unresolvable_urllib3_2] if hasattr(urllib3_errors, "NameResolutionError") else [])


@pytest.mark.parametrize("make, reason", [
    (failure_chains.refused, "the connection was refused"),
    (failure_chains.refused_as_built, "the connection was refused"),
    *[(make, "the host name could not be resolved") for make in NAME_RESOLUTION],
    (failure_chains.reset, "the connection was reset"),
    (failure_chains.remote_disconnected, "the server closed the connection without answering"),
    (failure_chains.closed_without_answer, "the server closed the connection without answering"),
    (failure_chains.untrusted_certificate, "the TLS certificate was not trusted"),
    (failure_chains.connect_timeout, "the connection timed out"),
    (failure_chains.read_timeout, "the connection timed out"),
    (failure_chains.body_read_timeout, "the connection timed out"),
])
def test_each_failure_is_named_by_its_kind(make, reason):
    assert _failures.connection_failure_reason(make()).startswith(reason)


@pytest.mark.parametrize("make, never_connected", [
    (failure_chains.refused, True),
    *[(make, True) for make in NAME_RESOLUTION],
    (failure_chains.reset, False),
    (failure_chains.closed_without_answer, False),
    (failure_chains.read_timeout, False),
    (failure_chains.body_read_timeout, False),
    (failure_chains.untrusted_certificate, False),
])
def test_never_connected_only_when_no_connection_was_made(make, never_connected):
    assert _failures.never_connected(make()) is never_connected


@pytest.mark.parametrize("make, post_retried", [
    (failure_chains.refused, True),
    (failure_chains.connect_timeout, True),
    (failure_chains.reset, False),
    (failure_chains.closed_without_answer, False),
    (failure_chains.read_timeout, False),
])
def test_a_post_is_retried_only_when_the_server_cannot_have_seen_it(make, post_retried):
    failure = make()
    assert _http.connection_error_is_retryable("POST", failure) is post_retried
    assert _http.connection_error_is_retryable("GET", failure) is True


@pytest.mark.parametrize("make", [*NAME_RESOLUTION, failure_chains.untrusted_certificate])
def test_certificate_and_name_resolution_failures_are_never_retried(make):
    failure = make()
    assert _http.connection_error_is_retryable("GET", failure) is False
    assert _http.connection_error_is_retryable("POST", failure) is False


def test_message_text_alone_classifies_nothing():
    lookalike = requests.exceptions.ConnectionError("NewConnectionError: [Errno 111] Connection refused; timed out")
    assert _failures.connection_failure_reason(lookalike) == "ConnectionError"
    assert not _failures.never_connected(lookalike)
    assert _http.connection_error_is_retryable("POST", lookalike) is False


def test_a_refused_connection_chain_is_walked_to_the_socket_error():
    kinds = [type(item) for item in _failures.failure_chain(failure_chains.refused())]
    assert kinds[0] is requests.exceptions.ConnectionError
    assert urllib3_errors.MaxRetryError in kinds and ConnectionRefusedError in kinds
    assert any(issubclass(kind, urllib3_errors.NewConnectionError) for kind in kinds)


def test_the_chain_survives_cycles():
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert list(_failures.failure_chain(first)) == [first, second]
