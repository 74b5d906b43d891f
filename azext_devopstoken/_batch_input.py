"""`az devops-rest batch` input: one JSON request per line, read lazily and checked line by line.

A line is ``{"method", "path", "query", "headers", "body", "id"}``; only ``path`` is required. Decisions:

- ``index`` is the 0-based number of the physical input line, so a script can correlate a result with its line
  (``sed -n "$((index + 1))p"``). Blank lines (only whitespace) are skipped: they get no result line but still
  count, so indexes may have gaps.
- A UTF-8 byte order mark at the start of the input is skipped (Windows PowerShell writes one).
- A line that is not JSON, not valid UTF-8 or not a well-formed request gets its own error result; it never
  stops the batch (unless --stop-on-error).
- Unknown keys are refused (a typo such as ``"params"`` would otherwise silently send a different request).
- ``query`` is an object of scalars (strings, numbers, booleans as ``true``/``false``), in the given order;
  ``headers`` an object of strings; ``body`` any JSON value, ``null`` or absent meaning no body; ``id`` any JSON
  value, copied as is into the result.
"""
import json
from dataclasses import dataclass, field

METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')  # the methods `devops-rest call` sends
KNOWN_KEYS = ('method', 'path', 'query', 'headers', 'body', 'id')
NO_ID = object()  # a line without "id" (null is an id like any other)


class InputError(ValueError):
    """A line that is not a request; ``request_id`` is the line's ``id`` when one could be read."""

    def __init__(self, message, request_id=NO_ID):
        super().__init__(message)
        self.request_id = request_id

    @property
    def has_id(self):
        return self.request_id is not NO_ID


@dataclass
class BatchRequest:
    """One input line, checked: what ``prepare`` turns into a request that can be sent."""
    index: int
    path: str
    method: str = 'GET'
    query: list = field(default_factory=list)      # [(name, value as text)], in input order
    headers: dict = field(default_factory=dict)    # {name: value}
    body: object = None                            # a JSON value, None for no body
    request_id: object = NO_ID                    # the line's "id", when it has one

    @property
    def has_id(self):
        return self.request_id is not NO_ID


def read_requests(lines):
    """Yield ``(index, BatchRequest or InputError)`` for every non-blank line of ``lines`` (str or bytes),
    consuming ``lines`` only as far as the caller iterates."""
    for index, raw in enumerate(lines):
        try:
            text = raw.decode('utf-8') if isinstance(raw, (bytes, bytearray)) else raw
        except UnicodeDecodeError as ex:
            yield index, InputError('line %d is not valid UTF-8 (byte %d).' % (index, ex.start))
            continue
        if index == 0:
            # Windows PowerShell 5.1 writes UTF-8 files with a byte order mark (Set-Content -Encoding utf8).
            text = text.lstrip('\ufeff')
        if not text.strip():
            continue
        try:
            yield index, parse_request(index, text)
        except InputError as ex:
            yield index, ex


def parse_request(index, text):
    """The BatchRequest of one line of text, or InputError saying what is wrong with it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as ex:
        raise InputError('line %d is not valid JSON: %s at column %d.' % (index, ex.msg, ex.colno))
    if not isinstance(document, dict):
        raise InputError('line %d must be a JSON object such as {"path": "_apis/projects"}; got a %s.'
                         % (index, _json_type(document)))
    request_id = document.get('id', NO_ID)
    try:
        return BatchRequest(index=index, path=_path(document), method=_method(document),
                            query=_query(document), headers=_headers(document), body=document.get('body'),
                            request_id=request_id)
    except InputError as ex:
        raise InputError('line %d: %s' % (index, ex), request_id)


def _path(document):
    unknown = sorted(set(document) - set(KNOWN_KEYS))
    if unknown:
        names = ', '.join(repr(k) for k in unknown)
        raise InputError('unknown key %s; a request has %s.' % (names, ', '.join(KNOWN_KEYS)))
    path = document.get('path')
    if not isinstance(path, str) or not path.strip():
        raise InputError('"path" must be a non-empty string such as "_apis/projects"; got %s.' % _shown(path))
    return path


def _method(document):
    method = document.get('method', 'GET')
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InputError('"method" must be one of %s; got %s.' % (', '.join(METHODS), _shown(method)))
    return method.upper()


def _query(document):
    query = document.get('query')
    if query is None:
        return []
    if not isinstance(query, dict):
        raise InputError('"query" must be an object such as {"$top": 10}; got a %s.' % _json_type(query))
    pairs = []
    for name, value in query.items():
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        elif isinstance(value, (int, float)):
            value = json.dumps(value)
        elif not isinstance(value, str):
            raise InputError('"query" values must be strings, numbers or booleans; "%s" is a %s.'
                             % (name, _json_type(value)))
        pairs.append((name, value))
    return pairs


def _headers(document):
    headers = document.get('headers')
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise InputError('"headers" must be an object of strings such as {"Accept": "application/json"}; '
                         'got a %s.' % _json_type(headers))
    for name, value in headers.items():
        if not isinstance(value, str):
            raise InputError('"headers" values must be strings; "%s" is a %s.' % (name, _json_type(value)))
        if not name.strip() or any(c in name + value for c in '\r\n'):
            raise InputError('header %s has an empty name or a line break.' % json.dumps(name))
    return dict(headers)


def _json_type(value):
    names = {dict: 'object', list: 'array', str: 'string', bool: 'boolean', int: 'number', float: 'number'}
    return 'null' if value is None else names.get(type(value), type(value).__name__)


def _shown(value):
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + '...'
