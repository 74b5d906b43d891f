"""A deadline per request that a server cannot stretch by trickling its headers or body.

requests' ``timeout`` bounds each socket read, so one byte a second keeps a request alive for ever. Here every
connection urllib3 uses for a request is recorded while a :class:`Deadline` is current (the transport's adapter
gives every pool it makes, direct or through a proxy, a connection class of our own: :func:`watch_pools`), and
when the deadline's timer fires it shuts those sockets down: a ``recv`` blocked in the main thread returns at once,
on Linux, macOS and Windows (``close()`` alone would not wake it), without signals. Through a proxy the socket is
the proxy connection (a CONNECT tunnel for https), so shutting it down ends the tunnel too. The caller then sees a
connection error and asks ``deadline.expired``; it raises :class:`DeadlineExceeded`, a connection error that the
transport retries for idempotent methods only, as it does a read cut off.

Bodies held in memory stay under the request's deadline; bodies streamed to a file or stdout re-arm it for every
chunk (:meth:`Deadline.arm`), so a long download that keeps moving is never cut, while a stalled one is.
"""
import socket
import threading

from requests.exceptions import ConnectionError as RequestsConnectionError

_current = threading.local()


class DeadlineExceeded(RequestsConnectionError):
    """The request's deadline passed (its sockets were shut down); ``seconds`` is the deadline."""

    def __init__(self, seconds):
        super().__init__('no complete answer within %.0f s' % seconds)
        self.seconds = seconds


class Deadline:
    """``seconds`` from :meth:`arm` on; ``expired`` once the sockets were shut down."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.expired = False
        self._connections = []
        self._timer = None

    def arm(self):
        self.cancel()
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def watch(self, connection):
        if connection not in self._connections:
            self._connections.append(connection)

    def exceeded(self):
        """The exception for this deadline, made fresh (no chain back to the socket error it caused)."""
        return DeadlineExceeded(self.seconds)

    def _expire(self):
        self.expired = True
        for connection in self._connections:
            _shut_down(getattr(connection, 'sock', None))

    def __enter__(self):
        """Current for the connections opened or used in this thread until ``__exit__``; armed."""
        _current.deadline = self
        self.arm()
        return self

    def __exit__(self, *exc_info):
        _current.deadline = None


def _shut_down(sock):
    # TLS inside a TLS proxy tunnel: urllib3's SSLTransport wraps the proxy's socket (``.socket``).
    while sock is not None and not hasattr(sock, 'shutdown'):
        sock = getattr(sock, 'socket', None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _watched(connection):
    deadline = getattr(_current, 'deadline', None)
    if deadline is not None:
        deadline.watch(connection)


class _WatchedConnection:
    """Mixed into a urllib3 connection class: the connection puts itself under the current deadline whenever it
    connects (a proxy tunnel included) or sends a request."""

    def connect(self):
        _watched(self)
        return super().connect()  # pylint: disable=no-member

    def request(self, *args, **kwargs):
        _watched(self)
        return super().request(*args, **kwargs)  # pylint: disable=no-member

    def request_chunked(self, *args, **kwargs):  # urllib3 1.26 sends chunked bodies here
        _watched(self)
        return super().request_chunked(*args, **kwargs)  # pylint: disable=no-member


_WATCHED_POOLS = {}
_WATCHED_LOCK = threading.Lock()


def watched_pool_class(pool_class):
    """``pool_class`` (HTTP, HTTPS, SOCKS...) with a connection class that deadlines can watch; made once."""
    if issubclass(pool_class.ConnectionCls, _WatchedConnection):
        return pool_class
    with _WATCHED_LOCK:
        if pool_class not in _WATCHED_POOLS:
            connection_class = type('Watched' + pool_class.ConnectionCls.__name__,
                                    (_WatchedConnection, pool_class.ConnectionCls), {})
            _WATCHED_POOLS[pool_class] = type('Watched' + pool_class.__name__, (pool_class,),
                                              {'ConnectionCls': connection_class})
        return _WATCHED_POOLS[pool_class]


def watch_pools(manager):
    """Make every pool that urllib3 ``manager`` (a PoolManager, ProxyManager or SOCKSProxyManager) creates from
    now on use connections that deadlines can watch; returns ``manager``."""
    manager.pool_classes_by_scheme = {scheme: watched_pool_class(pool_class)
                                      for scheme, pool_class in manager.pool_classes_by_scheme.items()}
    return manager


def deadline_error(seconds, attempts=1):
    from azure.cli.core.azclierror import AzureConnectionError
    tries = ' (%d attempts)' % attempts if attempts > 1 else ''
    return AzureConnectionError(
        'Azure DevOps did not finish answering within %.0f s%s (the answer was trickling in, or stalled).'
        % (seconds, tries),
        recommendation='Raise --timeout if the server is slow; the deadline per request is twice the connect plus '
                       'read time-outs.')
