"""-i/--include: the status line and response headers, for stderr (stdout stays the parseable body).

As gh api -i (cli/cli pkg/cmd/api/api.go processResponse/printHeaders: "HTTP/1.1 200 OK", then "Name: value"
lines), but in the order the server sent them (as curl -i), on stderr, with credentials redacted and
control characters removed (a hostile server cannot move the cursor or forge lines on the terminal).
"""
import re

from azext_devopstoken._text import printable

REDACTED = '<redacted>'
SECRET_HEADERS = frozenset(('authorization', 'proxy-authorization', 'cookie', 'set-cookie'))
# A credential, not a challenge: scheme + token68 (RFC 7235 section 2.1) and nothing else, so
# "Bearer eyJ..." and "Basic OmFiYw==" match while "Bearer authorization_uri=https://..." (a WWW-Authenticate
# challenge, needed for tenant discovery) and 'Basic realm="x"' do not.
_CREDENTIAL = re.compile(r'\s*(?:bearer|basic|negotiate|ntlm)\s+[A-Za-z0-9\-._~+/]+=*\s*\Z', re.I)
_JWT = re.compile(r'eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*')
_HTTP_VERSIONS = {9: 'HTTP/0.9', 10: 'HTTP/1.0', 11: 'HTTP/1.1', 20: 'HTTP/2'}


def redacted_value(name, value):
    """``value``, or REDACTED when the header carries a credential (by name, or by the look of its value)."""
    value = str(value)
    if name.lower() in SECRET_HEADERS or _CREDENTIAL.match(value) or _JWT.search(value):
        return REDACTED
    return value


def format_response_head(status_code, reason, headers, http_version=11):
    """The text -i writes to stderr: a status line, one "Name: value" line per header (redacted, control
    characters removed), and a blank line. ``headers``: a mapping or (name, value) pairs; ``http_version``:
    urllib3's number (11) or a string ("HTTP/2")."""
    version = _HTTP_VERSIONS.get(http_version, http_version if isinstance(http_version, str) else 'HTTP/1.1')
    lines = [printable('%s %s %s' % (version, status_code, reason or '')).rstrip()]
    pairs = headers.items() if hasattr(headers, 'items') else headers
    for name, value in pairs:
        lines.append('%s: %s' % (printable(name), printable(redacted_value(name, value))))
    return '\n'.join(lines) + '\n\n'


def response_head(response):
    """format_response_head for a requests.Response."""
    raw = getattr(response, 'raw', None)
    return format_response_head(response.status_code, response.reason, response.headers,
                                getattr(raw, 'version', 11))


def write_response_head(response, stream=None):
    """-i: the response's head on stderr (``stream``), before its body goes to stdout."""
    import sys
    stream = stream or sys.stderr
    stream.write(response_head(response))
    stream.flush()
