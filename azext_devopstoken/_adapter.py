"""The transport's adapter: a body shorter than its Content-Length is an error on every urllib3 az bundles, and
every connection it opens, direct or through a proxy, can be watched by a request's deadline (_deadline).

urllib3 2.x enforces Content-Length by default; urllib3 1.26 (Debian 12's azure-cli 2.45, and az installed with its
period dependencies) does not unless asked, so a download cut short exits 0 with a partial file and a JSON body
cut short is read as if complete. With the flag urllib3 raises ``ProtocolError(IncompleteRead)`` at read time,
which requests turns into ``ChunkedEncodingError``: retried like any broken connection, then an error, never a
short answer. Chunked bodies without their terminating chunk already fail on both lines.

With HTTPS_PROXY set (or ``proxies``), requests sends through a ProxyManager made by ``proxy_manager_for`` rather
than the adapter's PoolManager: both get the watched pool classes, on urllib3 1.26 and 2.x alike.
"""
from requests.adapters import HTTPAdapter

from azext_devopstoken._deadline import watch_pools


class TransportAdapter(HTTPAdapter):
    """An HTTPAdapter whose responses fail when the body ends before Content-Length says, and whose pools (direct
    and proxied) use connections that deadlines can watch."""

    def init_poolmanager(self, *args, **kwargs):  # pylint: disable=arguments-differ
        super().init_poolmanager(*args, **kwargs)
        watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # pylint: disable=arguments-differ
        return watch_pools(super().proxy_manager_for(proxy, **proxy_kwargs))

    def build_response(self, req, resp):
        resp.enforce_content_length = True  # urllib3 HTTPResponse: read here on every version, default False on 1.26
        return super().build_response(req, resp)


def mount_adapter(session, **kwargs):
    """One TransportAdapter (``kwargs``: pool sizes) for https:// and http:// in ``session``."""
    adapter = TransportAdapter(**kwargs)
    session.mount('https://', adapter)
    session.mount('http://', adapter)


def mount_pool(session, connections):
    """``connections`` kept-alive connections per host, for threads sharing ``session`` (`batch`, `call --paginate
    --parallel`): with requests' default of 10, urllib3 would open and drop connections beyond 10 ("Connection pool
    is full, discarding connection"), and a smaller pool would make the threads wait for each other. The same
    adapter as every Transport (lengths enforced, connections watched by deadlines, proxied or not)."""
    mount_adapter(session, pool_connections=4, pool_maxsize=connections)
