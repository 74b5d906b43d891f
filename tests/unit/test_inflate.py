"""_inflate: bodies decoded a bounded amount at a time, on our own inflater (urllib3 < 2.6) and urllib3's."""
import gzip
import io
import zlib

import pytest
import urllib3
from azure.cli.core.azclierror import AzureResponseError
from requests import Response
from requests.exceptions import ChunkedEncodingError, ContentDecodingError
from requests.structures import CaseInsensitiveDict

from azext_devopstoken import _inflate

TEXT = b"".join(b"line %d of a body that compresses well\n" % n for n in range(20000))


def _response(body, coding, length=None):
    headers = {"Content-Encoding": coding} if coding else {}
    if length is not None:
        headers["Content-Length"] = str(length)
    raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers, status=200, preload_content=False,
                               decode_content=False)
    raw.enforce_content_length = True
    response = Response()
    response.raw, response.status_code, response.headers = raw, 200, CaseInsensitiveDict(headers)
    return response


def _raw_deflate(data):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODED = {"gzip": gzip.compress(TEXT), "x-gzip": gzip.compress(TEXT), "deflate": zlib.compress(TEXT),
           "": TEXT, "identity": TEXT}


@pytest.mark.parametrize("bounded_by_urllib3", [False, True], ids=["ours", "urllib3"])
@pytest.mark.parametrize("coding", sorted(ENCODED))
def test_every_coding_decodes_to_the_body_in_pieces_of_at_most_the_size_asked(coding, bounded_by_urllib3):
    if bounded_by_urllib3 and not _inflate.urllib3_decodes_bounded():
        pytest.skip("urllib3 %s inflates whole reads: _inflate never leaves it the decoding" % urllib3.__version__)
    pieces = list(_inflate.decoded_chunks(_response(ENCODED[coding], coding), 4096, bounded_by_urllib3))
    assert b"".join(pieces) == TEXT
    assert max(len(piece) for piece in pieces) <= 4096


def test_raw_deflate_as_some_servers_send_it():
    assert b"".join(_inflate.decoded_chunks(_response(_raw_deflate(TEXT), "deflate"), 4096, False)) == TEXT


def test_every_gzip_member_is_read_and_trailing_garbage_after_one_is_ignored():
    body = gzip.compress(b"first ") + gzip.compress(b"second") + b"\x00garbage"
    assert b"".join(_inflate.decoded_chunks(_response(body, "gzip"), 1024, False)) == b"first second"


def test_a_bomb_is_inflated_one_piece_at_a_time():
    body = gzip.compress(b"a" * (64 << 20), compresslevel=9)   # 64 MiB from about 64 KiB
    pieces = _inflate.decoded_chunks(_response(body, "gzip"), 65536, False)
    total = 0
    for piece in pieces:
        assert len(piece) <= 65536
        total += len(piece)
    assert total == 64 << 20


def test_a_body_that_is_not_what_its_coding_says_is_a_decoding_error():
    with pytest.raises(ContentDecodingError):
        list(_inflate.decoded_chunks(_response(b"not gzip at all", "gzip"), 1024, False))


def test_a_cut_off_body_is_requests_chunked_encoding_error():
    body = gzip.compress(TEXT)
    with pytest.raises(ChunkedEncodingError):
        list(_inflate.decoded_chunks(_response(body[:100], "gzip", length=len(body)), 1024, False))


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, gzip", "compress"])
def test_a_coding_not_asked_for_is_refused_where_urllib3_would_inflate_it_unbounded(coding):
    with pytest.raises(AzureResponseError, match="not asked for"):
        list(_inflate.decoded_chunks(_response(b"xx", coding), 1024, False))


def test_urllib3_here_bounds_its_own_decoding():
    major, minor = (int(part) for part in urllib3.__version__.split(".")[:2])
    assert _inflate.urllib3_decodes_bounded() == ((major, minor) >= (2, 6))
