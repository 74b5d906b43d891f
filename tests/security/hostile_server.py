"""A loopback HTTPS server that misbehaves on purpose, one behaviour per first path segment (or for every path
when ``mode`` is set): ``https://127.0.0.1:PORT/trickle-body/_apis/projects`` trickles its body.

Only 127.0.0.1, an ephemeral port, a test CA (trustme; or the emulator's certificate given as a cert/key pair).
Hard stops: the server stops by itself after ``max_seconds`` or ``max_requests``; every slow or endless answer
checks the stop flag between writes, and sockets time out, so no thread outlives it for long.

The 401 follows Azure DevOps' own (REFERENCE.md, "Auth failure": ``X-VSS-ResourceTenant`` and
``WWW-Authenticate: Bearer authorization_uri=https://login.microsoftonline.com/<tenant>``, error body shape
``{"$id","innerException","message","typeName","typeKey","errorCode","eventId"}``); the rest is hostile by design.
"""
import hashlib
import http.server
import json
import os
import random
import socket
import socketserver
import ssl
import tempfile
import threading
import time
import zlib
from urllib.parse import parse_qs, urlsplit

from emulator.server import StopsByItself

HOST = "127.0.0.1"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\r\x08\x00bell\x07 \u202eevil"
BEHAVIOURS = ("ok", "trickle-body", "trickle-headers", "endless-body", "short-body", "unterminated-chunked",
              "gzip-bomb", "deep-json", "huge-error", "escape-error", "continuation-object", "continuation-list",
              "continuation-number", "nextlink-object", "list-answers", "error-object", "throttle-pages",
              "redirect-307", "redirect-308", "redirect-loop", "endless-pages", "endless-empty-pages",
              "unauthorized-tenant", "landing", "trickle-once-headers", "trickle-once-body", "large-body")
LARGE_BLOCK = 1 << 20


def error_body(message, type_key="VssServiceException"):
    return {"$id": "1", "innerException": None, "message": message, "typeName": "Microsoft.VisualStudio.Services."
            "WebApi.%s, Microsoft.VisualStudio.Services.WebApi" % type_key, "typeKey": type_key, "errorCode": 0,
            "eventId": 3000}


class HostileServer(StopsByItself):  # pylint: disable=too-many-instance-attributes
    """``with HostileServer() as server: server.url('trickle-body')``; ``server.ca_bundle`` for REQUESTS_CA_BUNDLE."""

    def __init__(self, cert_file=None, key_file=None, ca_bundle=None, max_seconds=120, max_requests=500,
                 trickle_interval=1.0, bomb_size=1 << 30, deep=200_000, huge=5 * 1024 * 1024, mode=None):
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.trickle_interval = trickle_interval   # seconds between trickled bytes
        self.bomb_size = bomb_size                 # inflated bytes of the gzip bomb
        self.deep = deep                           # nesting depth of deep-json
        self.huge = huge                           # characters in huge-error's message
        self.mode = mode                           # a behaviour for every path, or None: the first path segment
        self.log = []                              # one dict per request: method, path, host, headers, body size
        self.stop_reason = None
        self._cert = (cert_file, key_file)
        self.ca_bundle = ca_bundle
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._server = None
        self._bombs = {}
        self._workdir = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if self._cert[0]:
            context.load_cert_chain(*self._cert)
        else:
            import trustme
            ca = trustme.CA(organization_name="devops-token hostile server test CA")
            ca.issue_cert(HOST, "localhost").configure_cert(context)
            self._workdir = tempfile.mkdtemp(prefix="hostile-server-")
            self.ca_bundle = os.path.join(self._workdir, "ca.pem")
            ca.cert_pem.write_to_path(self.ca_bundle)
        self._server = _Server(self, context)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                         name="hostile-server").start()
        timer = threading.Timer(self.max_seconds, self.stop_soon, args=("lifetime of %ss over" % self.max_seconds,))
        timer.daemon = True
        timer.start()
        return self

    def _close(self):
        self._server.shutdown()
        self._server.server_close()

    # -- addresses ----------------------------------------------------------------------------------------
    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return "https://%s:%d" % (HOST, self.port)

    def url(self, behaviour, path=""):
        """The organization-like URL of one behaviour, e.g. ``url('gzip-bomb')`` + ``/_apis/projects``."""
        return "%s/%s%s" % (self.base_url, behaviour, path)

    def record(self, entry):
        with self._lock:
            self.log.append(entry)
            count = len(self.log)
        if count >= self.max_requests:
            self.stop_soon("%d requests served" % count)

    def gzip_bomb(self):
        """gzip of ``{"count":1,"value":["aaaa…"]}`` inflating to ``bomb_size`` bytes (made once per size)."""
        if self.bomb_size not in self._bombs:
            head, tail = b'{"count":1,"value":["', b'"]}'
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            parts = [compressor.compress(head)]
            remaining, block = self.bomb_size - len(head) - len(tail), b"a" * (1 << 20)
            while remaining > 0:
                parts.append(compressor.compress(block[:remaining]))
                remaining -= min(remaining, len(block))
            parts += [compressor.compress(tail), compressor.flush()]
            self._bombs[self.bomb_size] = b"".join(parts)
        return self._bombs[self.bomb_size]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hostile, context):
        self.hostile = hostile
        self._context = context
        super().__init__((HOST, 0), _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(15)  # a client that stops reading does not hold a thread for ever
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one trickled byte, one segment
        return self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # clients hang up on hostile answers: expected


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"
    entry = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    @property
    def hostile(self):
        return self.server.hostile

    def _dispatch(self):
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        behaviour = self.hostile.mode or (segments[0] if segments else "ok")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.entry = {"method": self.command, "path": self.path, "behaviour": behaviour, "host": headers.get("host"),
                      "headers": headers, "body": body, "query": parse_qs(parts.query)}
        self.hostile.record(self.entry)
        handler = getattr(self, "_" + behaviour.replace("-", "_"), None) if behaviour in BEHAVIOURS else None
        if handler is None:
            self._json(404, error_body("No such hostile behaviour: %s" % behaviour[:100]))
            return
        handler(parts)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    # -- plumbing -------------------------------------------------------------------------------------------
    def _head(self, status, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _json(self, status, document, headers=()):
        data = json.dumps(document).encode("utf-8")
        self._head(status, [("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Length", str(len(data)))] + list(headers))
        if self.command != "HEAD":
            self.wfile.write(data)

    def _sleep(self):
        """False when the server is stopping."""
        return not self.hostile.wait(self.hostile.trickle_interval)

    def _hang_up(self):
        self.close_connection = True
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- behaviours -----------------------------------------------------------------------------------------
    def _ok(self, _parts):
        self._json(200, {"count": 0, "value": []})

    def _landing(self, _parts):
        """Where redirects lead: echoes what arrived, for the checks on what a redirect carried."""
        entry = self.entry
        self._json(200, {"headers": entry["headers"], "bodyBytes": len(entry["body"]), "method": self.command})

    def _trickle_body(self, _parts):
        data = json.dumps({"count": 1, "value": ["slow" * 64]}).encode()
        self._head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        self._trickle(data)

    def _trickle_headers(self, _parts):
        self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"s" * 4096 +
                      b"\r\nContent-Length: 2\r\n\r\n{}")

    def _trickle(self, data):
        """One byte per trickle_interval, until done or the server stops; the log entry says whether every byte
        went out (``trickled_all``): a client that gave up at its deadline hung up before."""
        self.entry["trickled_all"] = False
        for byte in data:
            if not self._sleep():
                break
            self.wfile.write(bytes([byte]))
        else:
            self.entry["trickled_all"] = True
        self._hang_up()

    def _endless_body(self, _parts):
        self._head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
        self._chunk(b'{"count":1,"value":["')
        block = b"x" * 65536
        while not self.hostile.stopped:
            self._chunk(block)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _short_body(self, _parts):
        self._head(200, [("Content-Type", "application/json"), ("Content-Length", "100000")])
        self.wfile.write(b'{"count":1,"value":[')
        self._hang_up()

    def _unterminated_chunked(self, _parts):
        self._head(200, [("Content-Type", "application/octet-stream"), ("Transfer-Encoding", "chunked")])
        self._chunk(b"a" * 1000)
        self._chunk(b"b" * 1000)
        self._hang_up()  # no 0-chunk

    def _gzip_bomb(self, _parts):
        data = self.hostile.gzip_bomb()
        self._head(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                         ("Content-Length", str(len(data)))])
        if self.command != "HEAD":
            self.wfile.write(data)

    def _deep_json(self, _parts):
        data = b"[" * self.hostile.deep + b"]" * self.hostile.deep
        self._head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        self.wfile.write(data)

    def _huge_error(self, _parts):
        self._json(400, error_body("TF400898: " + "A very long message. " * (self.hostile.huge // 21 + 1)))

    def _error_object(self, _parts):
        document = error_body("placeholder")
        document["message"] = {"text": "an object where a string belongs", "codes": [1, 2]}
        self._json(400, document)

    def _escape_error(self, _parts):
        self._json(400, error_body("Bad request %s done" % ESCAPES))

    def _continuation(self, token):
        self._json(200, {"count": 1, "value": [{"id": 1}], "continuationToken": token, "hasMore": True})

    def _continuation_object(self, _parts):
        self._continuation({"next": "abc"})

    def _continuation_list(self, _parts):
        self._continuation(["abc", 1])

    def _continuation_number(self, _parts):
        self._continuation(12345)

    def _nextlink_object(self, _parts):
        self._json(200, {"values": [{"id": 1}], "nextLink": {"href": "https://evil.example/"},
                         "isLastBatch": False})

    def _list_answers(self, parts):
        path = parts.path.lower()
        if "connectiondata" in path or "resourceareas" in path:
            self._json(200, [{"locationUrl": "https://evil.example/"}, {"instanceId": 1}])
        else:
            self._ok(parts)

    def _redirect(self, status, location):
        self._head(status, [("Location", location), ("Content-Length", "0")])

    def _redirect_307(self, _parts):
        self._redirect(307, "https://localhost:%d/landing/elsewhere" % self.hostile.port)

    def _redirect_308(self, _parts):
        self._redirect(308, "https://localhost:%d/landing/elsewhere" % self.hostile.port)

    def _redirect_loop(self, parts):
        hop = int((parse_qs(parts.query).get("hop") or ["0"])[0]) + 1
        host = "localhost" if hop % 2 else HOST  # bounce between two host names for ever
        self._redirect(307, "https://%s:%d%s?hop=%d" % (host, self.hostile.port, parts.path, hop))

    def _endless_pages(self, _parts):
        number = len(self.hostile.log)
        self._json(200, {"count": 1, "value": [{"id": number}]},
                   headers=[("x-ms-continuationtoken", "token-%d-%d" % (number, time.monotonic_ns()))])

    def _throttle_pages(self, parts):
        """Five pages; every other request is a 503 asking to wait a second (Retry-After), on every page."""
        if len(self.hostile.log) % 2:
            self._json(503, error_body("TF400733: slow down"), headers=[("Retry-After", "1")])
            return
        page = int((parse_qs(parts.query).get("continuationToken") or ["0"])[0]) + 1
        more = [("x-ms-continuationtoken", str(page))] if page < 5 else []
        self._json(200, {"count": 1, "value": [{"page": page}]}, headers=more)

    def _endless_empty_pages(self, _parts):
        number = len(self.hostile.log)
        self._json(200, {"count": 0, "value": []}, headers=[("x-ms-continuationtoken", "empty-%d" % number)])

    def _first_for_path(self):
        """True for the first request to this exact path and query (a retry comes second)."""
        path = self.entry["path"]
        return sum(1 for entry in list(self.hostile.log) if entry["path"] == path) == 1

    def _trickle_once_headers(self, parts):
        """Trickles its headers for the first request to a path; answers at once when asked again."""
        if self._first_for_path():
            self._trickle_headers(parts)
        else:
            self._json(200, {"count": 1, "value": ["answered on the second attempt"]})

    def _trickle_once_body(self, parts):
        """Trickles its body for the first request to a path; answers at once when asked again."""
        if self._first_for_path():
            self._trickle_body(parts)
        else:
            self._json(200, {"count": 1, "value": ["answered on the second attempt"]})

    def _large_body(self, parts):
        """``?size=N&kind=binary|text``: N bytes of large_body(), as fast as the client reads them."""
        query = parse_qs(parts.query)
        size, kind = int(query.get("size", ["1048576"])[0]), query.get("kind", ["binary"])[0]
        content_type = "text/plain; charset=utf-8" if kind == "text" else "application/octet-stream"
        self._head(200, [("Content-Type", content_type), ("Content-Length", str(size))])
        for chunk in large_body(size, kind):
            if self.hostile.stopped:
                break
            self.wfile.write(chunk)

    def _unauthorized_tenant(self, _parts):
        self._json(401, error_body("TF400813: The user '' is not authorized to access this resource.",
                                   "UnauthorizedRequestException"),
                   headers=[("X-VSS-ResourceTenant", TENANT),
                            ("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/%s"
                             % TENANT), ("WWW-Authenticate", "Basic realm=\"https://tfsprodcus1.app.visualstudio"
                                                             ".com/\"")])


def large_body(size, kind="binary"):
    """The body ``large-body`` serves for ``?size=N&kind=binary|text``: a 1 MiB block (random bytes, or ASCII
    lines) repeated and cut at ``size``, in chunks of at most 1 MiB; the same bytes every time."""
    if kind == "text":
        block = b"".join(b"line %07d: the quick brown fox jumps over the lazy dog\n" % n for n in range(20000))
    else:
        block = random.Random(20261130).randbytes(LARGE_BLOCK)
    block = block[:LARGE_BLOCK]
    remaining = size
    while remaining > 0:
        yield block[:remaining]
        remaining -= min(remaining, len(block))


def large_body_digest(size, kind="binary"):
    """sha256 hex digest of ``large_body(size, kind)``."""
    digest = hashlib.sha256()
    for chunk in large_body(size, kind):
        digest.update(chunk)
    return digest.hexdigest()


def gunzip_size(data):
    """Inflated size of gzip ``data``, in constant memory (for tests of the bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, view = 0, memoryview(data)
    for start in range(0, len(view), 65536):
        piece = inflater.decompress(view[start:start + 65536], 1 << 20)
        size += len(piece)
        while inflater.unconsumed_tail:
            size += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
    return size + len(inflater.flush())
