"""_deadline and the adapter that puts it on every pool: direct, through an HTTP proxy, through SOCKS."""
import socket
import threading

import pytest
from requests.exceptions import ConnectionError as RequestsConnectionError

from azext_devopstoken import _adapter, _deadline, _http


def _watched(manager):
    return {scheme: issubclass(pool.ConnectionCls, _deadline._WatchedConnection)  # pylint: disable=protected-access
            for scheme, pool in manager.pool_classes_by_scheme.items()}


def test_direct_and_proxied_pools_use_watched_connections():
    with _http.Transport() as transport:
        adapter = transport.session.get_adapter("https://dev.azure.com/contoso")
        assert _watched(adapter.poolmanager) == {"http": True, "https": True}
        proxied = adapter.proxy_manager_for("http://127.0.0.1:3128")
        assert _watched(proxied) == {"http": True, "https": True}
        assert adapter.proxy_manager_for("http://127.0.0.1:3128") is proxied


def test_socks_pools_keep_their_own_connection_class():
    pytest.importorskip("socks")
    from urllib3.contrib.socks import SOCKSHTTPSConnection
    manager = _adapter.TransportAdapter().proxy_manager_for("socks5://127.0.0.1:1080")
    assert _watched(manager) == {"http": True, "https": True}
    assert issubclass(manager.pool_classes_by_scheme["https"].ConnectionCls, SOCKSHTTPSConnection)


def test_watching_is_idempotent():
    from urllib3.connectionpool import HTTPSConnectionPool
    once = _deadline.watched_pool_class(HTTPSConnectionPool)
    assert _deadline.watched_pool_class(once) is once
    assert _deadline.watched_pool_class(HTTPSConnectionPool) is once


def test_an_expired_deadline_wakes_a_blocked_read_and_says_so():
    server, client = socket.socketpair()

    class Connection:  # what the deadline needs of a urllib3 connection: its socket
        sock = client

    deadline = _deadline.Deadline(0.2)
    deadline.watch(Connection())
    got = []
    reader = threading.Thread(target=lambda: got.append(client.recv(10)))
    with deadline:
        reader.start()
        reader.join(30)
    assert not reader.is_alive() and got == [b""] and deadline.expired
    error = deadline.exceeded()
    assert isinstance(error, RequestsConnectionError) and error.seconds == 0.2 and error.__context__ is None
    server.close()
    client.close()


def test_the_error_after_retries_names_the_deadline_and_the_attempts():
    from azext_devopstoken._errors import devops_unreachable
    message = str(devops_unreachable(_deadline.DeadlineExceeded(10), 3))
    assert "did not finish answering within 10 s (3 attempts)" in message
    assert _http.describe_failure(_deadline.DeadlineExceeded(10)) == \
        "Azure DevOps did not finish answering within 10 s"


def test_a_get_past_its_deadline_is_retried_and_a_post_is_not():
    error = _deadline.DeadlineExceeded(10)
    assert _http.connection_error_is_retryable("GET", error)
    assert not _http.connection_error_is_retryable("POST", error)
    assert not _http.connection_error_is_retryable("PATCH", error)
