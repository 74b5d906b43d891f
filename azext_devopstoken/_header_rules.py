"""--headers read and checked before anything is sent: one header per line (az's ``@file`` expansion hands over a
whole file as one item), ``Name: value`` or ``Name=value``, names that are HTTP tokens, values that HTTP can carry.

A value with CR, NUL or another control character, or a character outside Latin-1 (http.client encodes header
values as Latin-1), would fail after the token was fetched or, worse, split into a second header: it is a usage
error up front (RFC 9110 section 5.5, field values; requests' ``check_header_validity`` refuses the same). Headers
that frame the message (Host, Content-Length, Transfer-Encoding, Connection) are set by the HTTP layer and refused.
The values of credential headers are never echoed in an error.
"""
import re

from azure.cli.core.azclierror import InvalidArgumentValueError

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 section 5.6.2
_BAD_VALUE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')   # controls other than HTAB
FRAMING = frozenset(('host', 'content-length', 'transfer-encoding', 'connection', 'te', 'upgrade', 'keep-alive'))
SECRET = frozenset(('authorization', 'proxy-authorization', 'cookie'))
OPTION = '--headers'


def parse_headers(items):
    """(name, value) pairs from --headers items; blank lines and lines starting with '#' are skipped."""
    pairs = []
    for item in items or []:
        for line in item.split('\n'):
            line = line[:-1] if line.endswith('\r') else line
            if line.strip() and not line.lstrip().startswith('#'):
                pairs.append(_parse_line(line))
    return pairs


def _parse_line(line):
    cut = min((i for i in (line.find(':'), line.find('=')) if i > 0), default=-1)
    name, value = (line[:cut].strip(), line[cut + 1:].strip()) if cut > 0 else ('', '')
    if not _TOKEN.match(name):
        shown = name if name.lower() not in SECRET and cut > 0 else line[:40] if cut <= 0 else name
        raise InvalidArgumentValueError(
            '%s expects name=value items (or "Name: value" lines) with a valid header name; got %r.'
            % (OPTION, shown[:80]), recommendation='Example: %s X-Custom=1 "If-Match: *"' % OPTION)
    if name.lower() in FRAMING:
        raise InvalidArgumentValueError('%s %s: this header is set by the HTTP layer and cannot be given.'
                                        % (OPTION, name))
    _check_value(name, value)
    return name, value


def _check_value(name, value):
    problem = None
    if _BAD_VALUE.search(value):
        problem = 'a line break or control character'
    else:
        try:
            value.encode('latin-1')
        except UnicodeEncodeError:
            problem = 'a character outside Latin-1'
    if problem:
        raise InvalidArgumentValueError(
            '%s %s has %s, which an HTTP header cannot carry.' % (OPTION, name, problem),
            recommendation='Give one header per line, with printable Latin-1 text (percent-encode other '
                           'characters if the API expects them).')
