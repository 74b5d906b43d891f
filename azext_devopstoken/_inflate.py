"""Response bodies decoded in bounded memory, whatever urllib3 az bundles.

urllib3 >= 2.6 inflates at most the amount asked for per read (its decoders take ``max_length``, the fix for
CVE-2025-66471), so there requests' ``iter_content`` is used as it is: urllib3's decoders also cover brotli and
zstd when installed, and stacked codings. Older urllib3 (1.26 under Debian 12's az 2.45) inflates a whole read at
once with no cap: a 1 MiB gzip read can become a gigabyte before anyone counts it. There the body is read as sent
(``decode_content=False``) and inflated here with zlib's ``max_length``, gzip (every member, as urllib3 does) and
deflate (zlib-wrapped or raw); any other coding is refused rather than handed to an unbounded decoder. Every
request asks only for ``gzip, deflate`` (ACCEPT_ENCODING), so Azure DevOps sends nothing else.
"""
import zlib

ACCEPT_ENCODING = 'gzip, deflate'
_IDENTITY = ('', 'identity')
_GZIP = ('gzip', 'x-gzip')


def urllib3_decodes_bounded():
    """True when urllib3's decoders take ``max_length`` (urllib3 >= 2.6): a read then inflates a bounded amount."""
    from urllib3.response import GzipDecoder
    import inspect
    return 'max_length' in inspect.signature(GzipDecoder.decompress).parameters


def decoded_chunks(response, size, bounded_by_urllib3=None):
    """The body of a streamed ``response``, decoded, in chunks of at most ``size`` bytes (``size`` may be exceeded
    only by urllib3 >= 2.6's own chunks), never inflating more than that at once; read failures are requests'
    exceptions, as ``iter_content`` raises them."""
    coding = response.headers.get('Content-Encoding', '').strip().lower()
    if bounded_by_urllib3 is None:
        bounded_by_urllib3 = urllib3_decodes_bounded()
    if coding in _IDENTITY or bounded_by_urllib3:
        return response.iter_content(size)
    return _inflated(response, _Inflater(coding), size)


def _inflated(response, inflater, size):
    for data in _raw_chunks(response, size):
        yield from inflater.pieces(data, size)
    tail = inflater.flush()
    if tail:
        yield tail


def _raw_chunks(response, size):
    """The body as sent, with urllib3's read errors turned into requests' as ``Response.iter_content`` does."""
    from requests import exceptions
    from urllib3 import exceptions as urllib3_errors
    try:
        yield from response.raw.stream(size, decode_content=False)
    except urllib3_errors.ProtocolError as ex:
        raise exceptions.ChunkedEncodingError(ex)
    except urllib3_errors.ReadTimeoutError as ex:
        raise exceptions.ConnectionError(ex)
    except urllib3_errors.SSLError as ex:
        raise exceptions.SSLError(ex)
    response._content_consumed = True  # pylint: disable=protected-access


def _decoding_error(coding):
    from requests.exceptions import ContentDecodingError
    return ContentDecodingError('Received response with content-encoding: %s, but failed to decode it.' % coding)


class _Inflater:
    """gzip or deflate, inflated ``size`` bytes at a time at most."""

    def __init__(self, coding):
        if coding not in _GZIP + ('deflate',):
            from azure.cli.core.azclierror import AzureResponseError
            from azext_devopstoken._text import printable
            import urllib3
            raise AzureResponseError(
                'Azure DevOps answered with Content-Encoding %s, which was not asked for; urllib3 %s cannot decode '
                'it in bounded memory.' % (printable(coding, 100), urllib3.__version__),
                recommendation='Ask for gzip or deflate only (remove Accept-Encoding from --headers).')
        self.coding = coding
        self._gzip = coding in _GZIP
        self._head = b''             # deflate: the first bytes, until they tell zlib-wrapped from raw
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip else None
        self._later_member = False   # gzip: past the first member
        self._swallow = False        # gzip: bytes after the last good member are ignored, as urllib3 does

    def pieces(self, data, size):
        """The inflated bytes of ``data`` (the next raw bytes of the body), in pieces of at most ``size``."""
        if self._obj is None:
            data = self._start_deflate(data)
        while data and not self._swallow:
            try:
                piece = self._obj.decompress(data, size)
            except zlib.error:
                if not (self._gzip and self._later_member):
                    raise _decoding_error(self.coding) from None
                self._swallow = True  # trailing garbage after a complete gzip member
                return
            data = self._obj.unconsumed_tail
            if self._gzip and self._obj.eof:
                data = self._obj.unused_data  # another gzip member follows (or trailing bytes)
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._later_member = True
            if piece:
                yield piece

    def _start_deflate(self, data):
        """Deflate is zlib-wrapped (RFC 1950) or, from some servers, raw (RFC 1951): the first two bytes tell."""
        self._head += data
        if len(self._head) < 2:
            return b''
        cmf, flg = self._head[0], self._head[1]
        wrapped = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        data, self._head = self._head, b''
        return data

    def flush(self):
        if self._obj is None or self._swallow:
            return b''
        return self._obj.flush()
