"""Real connection failures, as requests raises them: some provoked on 127.0.0.1, the others built the way
urllib3 (1.26 and 2) and requests raise them, each raised while handling the one below (``__context__``)."""
import http.client
import socket
import ssl
import threading

import requests
from urllib3 import exceptions as urllib3_errors

URL = "https://127.0.0.1:9/_apis/projects"


def raised(make, inner):
    """``make()`` raised while handling ``inner``, as urllib3 and requests raise their wrappers."""
    try:
        try:
            raise inner
        except BaseException:  # pylint: disable=broad-except
            raise make()  # pylint: disable=raise-missing-from
    except BaseException as ex:  # pylint: disable=broad-except
        return ex


def through_requests(urllib3_error, requests_error=requests.exceptions.ConnectionError):
    """requests' error for urllib3's, via MaxRetryError as urllib3's pool raises it."""
    max_retries = raised(lambda: urllib3_errors.MaxRetryError(None, URL, urllib3_error), urllib3_error)
    failure = raised(lambda: requests_error(max_retries), max_retries)
    failure.request = requests.Request("GET", URL).prepare()
    return failure


def _unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refused():
    """A real refused connection: nothing listens on the port."""
    session = requests.Session()
    session.trust_env = False  # no proxy between us and 127.0.0.1
    try:
        session.get("http://127.0.0.1:%d/" % _unused_port(), timeout=5)
    except requests.exceptions.ConnectionError as ex:
        return ex
    finally:
        session.close()
    raise AssertionError("the connection was not refused")


def refused_as_built():
    """A refused connection as urllib3 raises it (NewConnectionError while handling ConnectionRefusedError), for
    parametrize lists that are built before any test runs."""
    error = ConnectionRefusedError(111, "Connection refused")
    return through_requests(raised(lambda: urllib3_errors.NewConnectionError(
        None, "Failed to establish a new connection: %s" % error), error))


def _against_server(serve, timeout=5):
    """The error of one GET against a one-shot loopback server running ``serve(connection)``."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        stop = threading.Event()

        def accept_one():
            connection, _ = listener.accept()
            with connection:
                serve(connection, stop)
        thread = threading.Thread(target=accept_one, daemon=True)
        thread.start()
        session = requests.Session()
        session.trust_env = False
        try:
            session.get("http://127.0.0.1:%d/" % listener.getsockname()[1], timeout=timeout)
        except requests.exceptions.RequestException as ex:
            return ex
        finally:
            stop.set()
            session.close()
            thread.join(10)
    raise AssertionError("the request did not fail")


def closed_without_answer():
    """A real server that reads the request and hangs up without a word."""
    return _against_server(lambda connection, stop: connection.recv(65536))


def read_timeout():
    """A real server that reads the request and never answers (until the client gave up)."""
    def silent(connection, stop):
        connection.recv(65536)
        stop.wait(10)
    return _against_server(silent, timeout=0.3)


def unresolvable_urllib3_1():
    """urllib3 1.26: NewConnectionError raised while handling socket.gaierror."""
    gaierror = socket.gaierror(-2, "Name or service not known")
    return through_requests(raised(lambda: urllib3_errors.NewConnectionError(
        None, "Failed to establish a new connection: %s" % gaierror), gaierror))


def unresolvable_urllib3_2():
    """urllib3 2: NameResolutionError (a NewConnectionError) raised while handling socket.gaierror."""
    gaierror = socket.gaierror(-2, "Name or service not known")
    return through_requests(raised(lambda: urllib3_errors.NameResolutionError("nowhere.example", None, gaierror),
                                   gaierror))


def reset():
    """A connection reset while reading the answer: ProtocolError('Connection aborted.', ConnectionResetError)."""
    error = ConnectionResetError(104, "Connection reset by peer")
    failure = raised(lambda: requests.exceptions.ConnectionError(
        urllib3_errors.ProtocolError("Connection aborted.", error)), error)
    failure.request = requests.Request("GET", URL).prepare()
    return failure


def remote_disconnected():
    error = http.client.RemoteDisconnected("Remote end closed connection without response")
    return raised(lambda: requests.exceptions.ConnectionError(
        urllib3_errors.ProtocolError("Connection aborted.", error)), error)


def untrusted_certificate():
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    return through_requests(raised(lambda: urllib3_errors.SSLError(error), error), requests.exceptions.SSLError)


def connect_timeout():
    error = socket.timeout("timed out")
    return through_requests(raised(lambda: urllib3_errors.ConnectTimeoutError(
        None, "Connection to 127.0.0.1 timed out. (connect timeout=15)"), error), requests.exceptions.ConnectTimeout)


def body_read_timeout():
    """What iter_content raises when a streamed body stalls: ConnectionError(ReadTimeoutError)."""
    error = socket.timeout("The read operation timed out")
    return raised(lambda: requests.exceptions.ConnectionError(
        urllib3_errors.ReadTimeoutError(None, URL, "Read timed out.")), error)
