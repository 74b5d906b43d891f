"""The hostile server on its own: each behaviour does what it says (raw sockets and requests), and it stops by
itself. The end-to-end tests that point `az devops-rest call` at it build on these."""
import json
import socket
import ssl
import zlib

import pytest
import requests

from hostile_server import ESCAPES, TENANT, HostileServer, gunzip_size


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(trickle_interval=0.05, bomb_size=64 << 20, max_seconds=300, max_requests=400) as server:
        yield server


def get(server, behaviour, path="/_apis/projects", **kwargs):
    kwargs.setdefault("timeout", 30)
    return requests.get(server.url(behaviour, path), verify=server.ca_bundle, **kwargs)


def raw_reads(server, behaviour, count):
    """The sizes of the first ``count`` TLS reads of a raw GET, and all bytes read."""
    context = ssl.create_default_context(cafile=server.ca_bundle)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as plain:
        with context.wrap_socket(plain, server_hostname="127.0.0.1") as tls:
            tls.sendall(("GET /%s/_apis HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % behaviour).encode())
            sizes, data = [], b""
            while len(sizes) < count:
                piece = tls.recv(65536)
                if not piece:
                    break
                sizes.append(len(piece))
                data += piece
            return sizes, data


def test_listens_on_loopback_only(hostile):
    assert hostile.base_url.startswith("https://127.0.0.1:")
    assert hostile._server.server_address[0] == "127.0.0.1"  # pylint: disable=protected-access


def test_ok_is_a_plain_page(hostile):
    response = get(hostile, "ok")
    assert response.status_code == 200 and response.json() == {"count": 0, "value": []}


def test_trickle_headers_arrive_one_byte_per_write(hostile):
    sizes, data = raw_reads(hostile, "trickle-headers", 40)
    assert sizes == [1] * 40
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")


def test_trickle_body_arrives_one_byte_per_write_after_the_headers(hostile):
    sizes, data = raw_reads(hostile, "trickle-body", 12)
    head_end = data.find(b"\r\n\r\n")
    assert head_end > 0 and b"Content-Length:" in data[:head_end]
    assert sizes[-8:] == [1] * 8  # the head may come in a few writes; the body one byte at a time


def test_endless_body_keeps_going(hostile):
    with get(hostile, "endless-body", stream=True) as response:
        received = 0
        for chunk in response.iter_content(1 << 20):
            received += len(chunk)
            if received > 20 << 20:
                break
    assert received > 20 << 20 and response.headers["Transfer-Encoding"] == "chunked"


def test_short_body_promises_more_than_it_sends(hostile):
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(hostile, "short-body")
    _, data = raw_reads(hostile, "short-body", 50)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 100000" in head and 0 < len(body) < 100000


def test_unterminated_chunked_body_has_no_last_chunk(hostile):
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(hostile, "unterminated-chunked")
    _, data = raw_reads(hostile, "unterminated-chunked", 50)
    assert b"Transfer-Encoding: chunked" in data and not data.endswith(b"0\r\n\r\n")


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(hostile):
    with get(hostile, "gzip-bomb", stream=True) as response:
        wire = response.raw.read(decode_content=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(wire) < 1 << 20 and gunzip_size(wire) == 64 << 20
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflater.decompress(wire, 64).startswith(b'{"count":1,"value":["aaa')


def test_deep_json_is_nested_200000_deep(hostile):
    response = get(hostile, "deep-json")
    assert response.content == b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(RecursionError):
        json.loads(response.content)


def test_huge_error_has_a_5_mb_message(hostile):
    response = get(hostile, "huge-error")
    assert response.status_code == 400 and len(response.json()["message"]) >= 5 * 1024 * 1024


def test_escape_error_carries_terminal_escapes(hostile):
    response = get(hostile, "escape-error")
    message = response.json()["message"]
    assert response.status_code == 400 and ESCAPES in message and "\x1b[2J" in message


@pytest.mark.parametrize("behaviour, kind", [("continuation-object", dict), ("continuation-list", list),
                                             ("continuation-number", int)])
def test_continuation_tokens_of_the_wrong_type(hostile, behaviour, kind):
    document = get(hostile, behaviour).json()
    assert document["hasMore"] is True and isinstance(document["continuationToken"], kind)


def test_nextlink_that_is_an_object(hostile):
    document = get(hostile, "nextlink-object").json()
    assert document["isLastBatch"] is False and isinstance(document["nextLink"], dict)


@pytest.mark.parametrize("path", ["/_apis/connectionData", "/_apis/resourceAreas/bb1e7ec9-e901-4b68-999a-de7012b920f8"])
def test_connection_data_and_resource_areas_are_lists(hostile, path):
    assert isinstance(get(hostile, "list-answers", path).json(), list)
    assert get(hostile, "list-answers", "/_apis/projects").json() == {"count": 0, "value": []}


@pytest.mark.parametrize("behaviour, status", [("redirect-307", 307), ("redirect-308", 308)])
def test_redirects_go_to_another_host_that_shows_what_arrived(hostile, behaviour, status):
    response = requests.post(hostile.url(behaviour, "/_apis/wit/wiql"), data=b'{"query": "x"}',
                             headers={"Authorization": "Bearer secret", "X-Custom": "mine"},
                             verify=hostile.ca_bundle, allow_redirects=False, timeout=30)
    assert response.status_code == status
    location = response.headers["Location"]
    assert location.startswith("https://localhost:%d/landing/" % hostile.port)
    landed = requests.post(location, data=b"abc", headers={"X-Custom": "mine"}, verify=hostile.ca_bundle,
                           timeout=30).json()
    assert landed["headers"]["x-custom"] == "mine" and landed["bodyBytes"] == 3
    assert "authorization" not in landed["headers"]


def test_redirect_loop_never_ends(hostile):
    with pytest.raises(requests.exceptions.TooManyRedirects):
        get(hostile, "redirect-loop")
    first = get(hostile, "redirect-loop", allow_redirects=False).headers["Location"]
    assert "localhost" in first and "hop=1" in first


@pytest.mark.parametrize("behaviour", ["endless-pages", "endless-empty-pages"])
def test_endless_pages_hand_out_fresh_tokens(hostile, behaviour):
    tokens = set()
    for _ in range(5):
        response = get(hostile, behaviour, params={"continuationToken": "x"})
        tokens.add(response.headers["x-ms-continuationtoken"])
    assert len(tokens) == 5
    assert (response.json()["value"] == []) is (behaviour == "endless-empty-pages")


def test_unauthorized_names_a_tenant(hostile):
    response = get(hostile, "unauthorized-tenant")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == TENANT
    assert "authorization_uri=https://login.microsoftonline.com/%s" % TENANT in response.headers["WWW-Authenticate"]
    assert response.json()["message"].startswith("TF400813")
    head = requests.head(hostile.url("unauthorized-tenant"), verify=hostile.ca_bundle, timeout=30)
    assert head.status_code == 401 and head.headers["X-VSS-ResourceTenant"] == TENANT


def test_mode_applies_one_behaviour_to_every_path(hostile):
    hostile.mode = "deep-json"
    try:
        assert requests.get(hostile.base_url + "/contoso/_apis/projects", verify=hostile.ca_bundle,
                            timeout=30).content.startswith(b"[[[[")
    finally:
        hostile.mode = None


def test_requests_are_logged(hostile):
    before = len(hostile.log)
    requests.post(hostile.url("ok"), data=b"12345", headers={"X-Mark": "1"}, verify=hostile.ca_bundle, timeout=30)
    entry = hostile.log[before]
    assert (entry["method"], entry["behaviour"], entry["body"], entry["headers"]["x-mark"]) == \
        ("POST", "ok", b"12345", "1")


def test_stops_by_itself_after_its_request_budget():
    with HostileServer(max_requests=3) as server:
        for _ in range(3):
            get(server, "ok")
        assert server.wait(10) and "3 requests" in server.stop_reason
        with pytest.raises(requests.exceptions.ConnectionError):
            get(server, "ok", timeout=5)


def test_stops_by_itself_after_its_lifetime_and_ends_endless_answers():
    with HostileServer(max_seconds=1) as server:
        with get(server, "endless-body", stream=True) as response:
            with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
                for _ in response.iter_content(1 << 20):
                    pass
        assert server.wait(10) and "lifetime" in server.stop_reason


def test_accepts_a_given_certificate(tmp_path):
    import trustme
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key, bundle = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(bundle))
    with HostileServer(cert_file=str(cert), key_file=str(key), ca_bundle=str(bundle), max_requests=5) as server:
        assert server.ca_bundle == str(bundle)
        assert get(server, "ok").status_code == 200
