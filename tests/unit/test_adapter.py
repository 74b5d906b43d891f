"""The transport's adapter: every response it builds checks its length (urllib3 1.26 does not by default)."""
import io

import urllib3
from requests import PreparedRequest

from azext_devopstoken import _adapter, _http


def test_transport_mounts_the_adapter_for_both_schemes():
    with _http.Transport() as transport:
        for url in ("https://dev.azure.com/contoso", "http://server/tfs/DefaultCollection"):
            assert isinstance(transport.session.get_adapter(url), _adapter.TransportAdapter)


def test_responses_built_enforce_content_length():
    raw = urllib3.HTTPResponse(body=io.BytesIO(b"{}"), headers={"Content-Length": "2"}, status=200,
                               preload_content=False)
    raw.enforce_content_length = False  # what urllib3 1.26 starts with
    request = PreparedRequest()
    request.prepare(method="GET", url="https://dev.azure.com/contoso/_apis/projects")
    response = _adapter.TransportAdapter().build_response(request, raw)
    assert response.raw.enforce_content_length is True and response.status_code == 200
