"""The transport adapter: a body shorter than its Content-Length is an error on every urllib3 az bundles.

urllib3 2.x enforces Content-Length by default; urllib3 1.26 (Debian 12's azure-cli 2.45, and az installed with its
period dependencies) does not unless asked, so a download cut short exits 0 with a partial file and a JSON body
cut short is read as if complete. With the flag urllib3 raises ``ProtocolError(IncompleteRead)`` at read time,
which requests turns into ``ChunkedEncodingError``: retried like any broken connection, then an error, never a
short answer. Chunked bodies without their terminating chunk already fail on both lines.
"""
from requests.adapters import HTTPAdapter


class LengthEnforcingAdapter(HTTPAdapter):
    """An HTTPAdapter whose responses fail when the body ends before Content-Length says."""

    def build_response(self, req, resp):
        resp.enforce_content_length = True  # urllib3 HTTPResponse: read here on every version, default False on 1.26
        return super().build_response(req, resp)


def mount_length_enforcement(session):
    adapter = LengthEnforcingAdapter()
    session.mount('https://', adapter)
    session.mount('http://', adapter)


def mount_pool(session, connections):
    """``connections`` kept-alive connections per host, for threads sharing ``session`` (`batch`, `call --paginate
    --parallel`): with requests' default of 10, urllib3 would open and drop connections beyond 10 ("Connection pool
    is full, discarding connection"), and a smaller pool would make the threads wait for each other. The same
    adapter as every Transport (lengths enforced) and the same deadline watch."""
    from azext_devopstoken._deadline import watch_connections
    adapter = LengthEnforcingAdapter(pool_connections=4, pool_maxsize=connections)
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    watch_connections(session)
