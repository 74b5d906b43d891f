"""What kind of connection failure a requests exception is, read from the exception types along its chain.

requests wraps urllib3's errors (``ConnectionError(MaxRetryError)``), urllib3 wraps the socket's
(``MaxRetryError.reason``, ``ProtocolError('Connection aborted.', error)``, ``NewConnectionError`` raised while
handling the ``OSError``), so the kind is found by walking the chain rather than by reading the message text.
Written against what urllib3 1.26 (bundled with az 2.45) and urllib3 2 both raise.
"""
import http.client
import socket
import ssl


def failure_chain(ex):
    """``ex`` and every exception behind it (``__cause__``, ``__context__``, ``reason``, exception arguments),
    each once, nearest first."""
    seen, pending = set(), [ex]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, 'reason', None), current.__cause__, current.__context__])
        pending.extend(current.args)


def _any(ex, kinds):
    return any(isinstance(item, kinds) for item in failure_chain(ex))


def _name_resolution_errors():
    from urllib3 import exceptions
    kinds = (socket.gaierror,)
    if hasattr(exceptions, 'NameResolutionError'):  # urllib3 2; 1.26 raises only the gaierror
        kinds += (exceptions.NameResolutionError,)
    return kinds


def never_connected(ex):
    """True when the connection was never made (refused, unresolvable host, no route), so the server cannot
    have seen the request and any method may be retried."""
    from urllib3.exceptions import NewConnectionError
    return _any(ex, (NewConnectionError, ConnectionRefusedError) + _name_resolution_errors())


def not_transient(ex):
    """True for failures a retry cannot fix: an untrusted or mismatched certificate, a host name that does not
    resolve."""
    return _any(ex, (ssl.SSLCertVerificationError,) + _name_resolution_errors())


def _timed_out(ex):
    from requests.exceptions import Timeout
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
    # urllib3's NewConnectionError derives from ConnectTimeoutError (for compatibility), yet is no time-out.
    return isinstance(ex, Timeout) or any(
        isinstance(item, (socket.timeout, TimeoutError, ReadTimeoutError, ConnectTimeoutError))
        and not isinstance(item, NewConnectionError) for item in failure_chain(ex))


def connection_failure_reason(ex):
    """A short human reason for a requests/urllib3 connection failure, without URLs' queries or bodies."""
    from requests.exceptions import SSLError, Timeout
    from urllib3.exceptions import SSLError as Urllib3SSLError
    if _any(ex, (SSLError, Urllib3SSLError, ssl.SSLError)):
        return 'the TLS certificate was not trusted (set REQUESTS_CA_BUNDLE if a proxy re-signs traffic)'
    if isinstance(ex, Timeout):
        return 'the connection timed out'
    for kinds, reason in ((ConnectionRefusedError, 'the connection was refused'),
                          (_name_resolution_errors(), 'the host name could not be resolved'),
                          # RemoteDisconnected is a ConnectionResetError: it comes first.
                          (http.client.RemoteDisconnected, 'the server closed the connection without answering'),
                          (ConnectionResetError, 'the connection was reset')):
        if _any(ex, kinds):
            return reason
    if _timed_out(ex):
        return 'the connection timed out'
    return type(ex).__name__
