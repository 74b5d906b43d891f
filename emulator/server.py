"""The emulator's HTTP plumbing, shared by every service: :class:`Request`, :class:`Response`, the
:class:`RequestLog`, and the HTTPS listener (:class:`Listener`) on 127.0.0.1.

Each *listener* is one HTTPS origin (its own port) played by one *service* object with a
``handle(request) -> Response`` method. Services never touch sockets: faults such as a stall,
a connection reset mid-body or a streamed body are described on the :class:`Response`.
The listener's *owner* (:class:`emulator.app.Emulator`) gives it ``log``, ``max_requests``,
``stop_soon(reason)`` and ``services``; this module imports no service and not the owner.
"""
import http.server
import itertools
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"


@dataclass
class Request:
    """One parsed HTTP request, as a service sees it."""
    method: str
    listener: str            # which origin received it: login | arm | other | one of DEVOPS_HOSTS
    port: int
    host: str                # the Host header as sent
    raw_path: str            # path as sent, still percent-encoded, without the query
    path: str                # percent-decoded path
    raw_query: str
    query: dict              # name -> [values], blank values kept (parse_qs)
    headers: object          # http.client.HTTPMessage: case-insensitive .get()
    body: bytes
    connection_id: int       # same number for requests sent on one kept-alive connection

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def arg(self, name, default=None):
        """First value of a query parameter, matched case-insensitively as Azure DevOps does."""
        for key, values in self.query.items():
            if key.lower() == name.lower():
                return values[0]
        return default

    def form(self):
        """The body as an x-www-form-urlencoded dict of first values."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """What a service answers. ``body`` may be bytes or an iterable of byte chunks (streamed)."""
    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: Union[bytes, Iterable[bytes]] = b""
    reason: Optional[str] = None
    stall_seconds: float = 0.0            # sleep before answering (latency, time-out tests)
    reset_after_bytes: Optional[int] = None  # send this many body bytes, then reset the connection
    close: bool = False                   # close the connection after this response

    @classmethod
    def json(cls, status, obj, headers=(), **kwargs):
        body = json.dumps(obj).encode("utf-8")
        return cls(status, [("Content-Type", "application/json; charset=utf-8")] + list(headers), body, **kwargs)

    @classmethod
    def text(cls, status, text, content_type="text/plain; charset=utf-8", headers=(), **kwargs):
        return cls(status, [("Content-Type", content_type)] + list(headers), text.encode("utf-8"), **kwargs)


class RequestLog:
    """Every request any listener received, for assertions (thread-safe, append-only)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []

    def append(self, entry):
        with self._lock:
            self._entries.append(entry)
            return len(self._entries)

    def entries(self, **match):
        """Entries whose fields equal every ``match`` value, e.g. ``entries(listener="devops")``."""
        with self._lock:
            items = list(self._entries)
        return [e for e in items if all(e.get(k) == v for k, v in match.items())]

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        with self._lock:
            return len(self._entries)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 60  # a client that goes silent does not hold a thread for ever

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the request log is the record; keep stderr quiet

    def _dispatch(self):
        emu = self.server.owner
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        request = Request(
            method=self.command, listener=self.server.listener, port=self.server.server_address[1],
            host=self.headers.get("Host", ""), raw_path=split.path, path=unquote(split.path),
            raw_query=split.query, query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers, body=body, connection_id=self.connection.connection_number)
        entry = {
            "time": time.time(), "listener": request.listener, "port": request.port, "host": request.host,
            "method": request.method, "path": request.path, "raw_path": request.raw_path,
            "query": request.query, "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body, "connection_id": request.connection_id, "status": None,
        }
        count = emu.log.append(entry)
        if count > emu.max_requests:
            emu.stop_soon("request budget of %d spent" % emu.max_requests)
            response = Response.text(503, "emulator request budget spent", close=True)
        else:
            try:
                response = emu.services[request.listener].handle(request)
            except Exception as ex:  # pylint: disable=broad-except
                response = Response.text(500, "emulator bug: %r" % ex)
        entry["status"] = response.status
        self._send(response)

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response):
        if response.stall_seconds:
            time.sleep(response.stall_seconds)
        chunked = self._send_head(response)
        if self.command == "HEAD":
            return
        streamed = not isinstance(response.body, (bytes, bytearray))
        chunks = response.body if streamed else [response.body]
        if response.reset_after_bytes is not None:
            chunks = _truncate(chunks, response.reset_after_bytes)
        for chunk in chunks:
            if chunk is _RESET:
                self.wfile.flush()
                self._reset()
                return
            if chunked and chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif not chunked:
                self.wfile.write(chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_head(self, response):
        """Status line and headers; returns whether the body goes out chunked."""
        self.send_response(response.status, response.reason)
        names = {k.lower() for k, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        streamed = not isinstance(response.body, (bytes, bytearray))
        chunked = streamed and "content-length" not in names
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif not streamed:
            self.send_header("Content-Length", str(len(response.body)))
        if response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        return chunked

    def _reset(self):
        """Abort the connection with a TCP RST, as a crashed front end would."""
        self.close_connection = True
        try:
            raw = self.connection.unwrap() if isinstance(self.connection, ssl.SSLSocket) else self.connection
        except (ssl.SSLError, OSError):
            raw = self.connection
        try:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


_RESET = object()


def _truncate(chunks, budget):
    """The body's chunks cut after ``budget`` bytes, then the _RESET marker."""
    for chunk in chunks:
        if len(chunk) >= budget:
            yield chunk[:budget]
            yield _RESET
            return
        budget -= len(chunk)
        yield chunk
    yield _RESET


class Listener(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """One HTTPS origin on 127.0.0.1 (a port of its own); each connection is served on a thread."""
    daemon_threads = True
    allow_reuse_address = True
    # socketserver passes request_queue_size to listen(); its default is 5 (Python docs, socketserver:
    # "request_queue_size ... The default value is usually 5"). `devops-rest batch --parallel 8` opens 8 connections
    # at once, and a SYN arriving at a full queue is dropped (listen(2): "the request may be ignored so that a later
    # reattempt at connection succeeds"), costing the client the 1 s initial SYN retransmit (RFC 6298 2.1). The real
    # service's front ends accept far more connections than that; 128 is Linux's historical SOMAXCONN.
    request_queue_size = 128

    def __init__(self, owner, listener, ssl_context):
        self.owner = owner
        self.listener = listener
        self._ssl_context = ssl_context
        self._connection_numbers = itertools.count(1)
        super().__init__((HOST, 0), _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(60)
        # As real front ends do: without it the status line + headers and the body (separate writes) meet
        # Nagle and the client's delayed ACK, and every answer on a kept-alive connection waits ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wrapped = self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        wrapped.connection_number = next(self._connection_numbers)
        return wrapped, addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us (or hung up): nothing to serve
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # client resets are expected in fault tests


def tls_context(ca_bundle):
    """A server TLS context with a fresh certificate for 127.0.0.1/localhost, signed by a throwaway test CA
    whose certificate is written to ``ca_bundle`` (clients trust it through REQUESTS_CA_BUNDLE). It also names
    login.microsoftonline.com, which only the emulator's proxy (emulator.proxy) tunnels to the login listener."""
    import trustme
    ca = trustme.CA(organization_name="devops-token emulator test CA")
    ca.cert_pem.write_to_path(ca_bundle)
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1", "login.microsoftonline.com")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


class StopsByItself:
    """The lifecycle shared by the emulator and the tests' hostile server: ``start()`` (the subclass's), stop once
    with a reason (from any thread), wait for it, and use as a context manager. Subclasses set ``_stopped`` (a
    threading.Event) and ``stop_reason`` and close their sockets in ``_close()``."""

    def stop_soon(self, reason):
        """Stop from any thread, including a handler thread (shutdown() would deadlock there)."""
        threading.Thread(target=self.stop, args=(reason,), daemon=True).start()

    def stop(self, reason="stopped by owner"):
        if self._stopped.is_set():
            return
        self.stop_reason = reason
        self._stopped.set()
        self._close()

    def _close(self):
        raise NotImplementedError

    def wait(self, timeout=None):
        return self._stopped.wait(timeout)

    @property
    def stopped(self):
        return self._stopped.is_set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
