"""A deadline per request that a server cannot stretch by trickling its headers or body.

requests' ``timeout`` bounds each socket read, so one byte a second keeps a request alive for ever. Here every
connection urllib3 uses for a request is recorded (a connection pool class of our own) while a :class:`Deadline`
is current, and when the deadline's timer fires it shuts those sockets down: a ``recv`` blocked in the main thread
returns at once, on Linux, macOS and Windows (``close()`` alone would not wake it), without signals. The caller
then sees a connection error and asks ``deadline.expired``.

Bodies held in memory stay under the request's deadline; bodies streamed to a file or stdout re-arm it for every
chunk (:meth:`Deadline.arm`), so a long download that keeps moving is never cut, while a stalled one is.
"""
import socket
import threading

from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

_current = threading.local()


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

    def _expire(self):
        self.expired = True
        for connection in self._connections:
            sock = getattr(connection, 'sock', None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        """Current for the connections opened or used in this thread until ``__exit__``; armed."""
        _current.deadline = self
        self.arm()
        return self

    def __exit__(self, *exc_info):
        _current.deadline = None


def _watched(connection):
    deadline = getattr(_current, 'deadline', None)
    if deadline is not None:
        deadline.watch(connection)


class _WatchedHTTPSConnection(HTTPSConnection):
    """An HTTPSConnection that puts itself under the current deadline whenever it connects or sends a request."""

    def connect(self):
        _watched(self)
        return super().connect()  # pylint: disable=no-member

    def request(self, *args, **kwargs):  # pylint: disable=arguments-differ,signature-differs
        _watched(self)
        return super().request(*args, **kwargs)  # pylint: disable=no-member

    def request_chunked(self, *args, **kwargs):  # urllib3 1.26 sends chunked bodies here
        _watched(self)
        return super().request_chunked(*args, **kwargs)  # pylint: disable=no-member


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def watch_connections(session):
    """Make every https pool of ``session``'s adapters use connections that deadlines can watch."""
    for adapter in session.adapters.values():
        manager = getattr(adapter, 'poolmanager', None)
        if manager is not None:
            manager.pool_classes_by_scheme = dict(manager.pool_classes_by_scheme, https=_WatchedHTTPSConnectionPool)


def deadline_error(seconds):
    from azure.cli.core.azclierror import AzureConnectionError
    return AzureConnectionError(
        'Azure DevOps did not finish answering within %.0f s (the answer was trickling in, or stalled).' % seconds,
        recommendation='Raise --timeout if the server is slow; the deadline per request is twice the connect plus '
                       'read time-outs.')
