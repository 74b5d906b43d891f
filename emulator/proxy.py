"""The emulator's loopback HTTP proxy: the only way out for the ``az`` the harness runs, and it leads nowhere.

:class:`emulator.azenv.AzEnv` points HTTPS_PROXY/HTTP_PROXY at it (NO_PROXY keeps 127.0.0.1 and localhost
direct). Every az tries the internet on its own: the version check on the first run in a config dir
(``azure/cli/core/util.py`` ``get_cached_latest_versions``: https://azure.microsoft.com, raw.githubusercontent.com
on 2.45; azcliprod.blob.core.windows.net on 2.91), and MSAL before 1.21 validates any authority outside its
well-known hosts by asking ``https://login.microsoftonline.com/common/discovery/instance``
(``msal/authority.py``). So the proxy:

* tunnels a ``CONNECT`` only to a destination the emulator plays (``routes``: "host:port" -> a local port,
  e.g. login.microsoftonline.com:443 -> the ``login`` listener, whose test-CA certificate names that host);
* refuses everything else with ``403`` and records it in the request log (``listener="proxy"``), so a test can
  prove nothing tried to leave the machine unnoticed. Nothing is ever forwarded to another address.

Bounded like the listeners: request heads of at most 64 KiB, idle tunnels closed after 60 s, stops with its owner.
"""
import socket
import socketserver
import threading
import time

from emulator.server import HOST, Listener

MAX_HEAD_BYTES = 64 * 1024
IDLE_SECONDS = 60
PROXY_LISTENER = "proxy"


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        idle = self.server.idle_seconds
        self.request.settimeout(idle)
        head = self._read_head()
        if head is None:
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        target = rest.rpartition(" ")[0] or rest
        port = self.server.routes.get(target.lower()) if method == "CONNECT" else None
        entry = {"time": time.time(), "listener": PROXY_LISTENER, "port": self.server.server_address[1],
                 "host": target, "method": method, "path": target, "raw_path": target, "query": {},
                 "headers": {}, "body": b"", "connection_id": 0, "status": 200 if port else 403}
        count = self.server.owner.log.append(entry)
        if count > self.server.owner.max_requests:
            self.server.owner.stop_soon("request budget of %d spent" % self.server.owner.max_requests)
            port = None
            entry["status"] = 403
        if port is None:
            body = (f"devops-token emulator proxy: {method} {target} refused; only loopback destinations the "
                    "emulator plays are reachable\n").encode("utf-8")
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return
        with socket.create_connection((HOST, port), timeout=idle) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            back.start()
            _pipe(self.request, upstream)
            back.join(idle)

    def _read_head(self):
        head = b""
        while b"\r\n\r\n" not in head:
            try:
                chunk = self.request.recv(4096)
            except OSError:
                return None
            if not chunk or len(head) + len(chunk) > MAX_HEAD_BYTES:
                return None
            head += chunk
        return head


def _pipe(source, sink):
    """Copy bytes one way until either side closes or goes idle; then close the write side of ``sink``."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class LoopbackProxy(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """An HTTP proxy on 127.0.0.1 that tunnels ``CONNECT`` to ``routes`` ("host:port" -> local port) only."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = Listener.request_queue_size  # as deep as the listeners' (parallel clients, batch)

    def __init__(self, owner, routes, idle_seconds=IDLE_SECONDS):
        self.owner = owner
        self.idle_seconds = idle_seconds  # a tunnel with no traffic one way for this long is closed
        self.routes = {target.lower(): port for target, port in routes.items()}
        super().__init__((HOST, 0), _ProxyHandler)

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.server_address[1])

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-tunnel is not an emulator failure
