"""`az devops-rest batch` output: one compact JSON line per input line, and the run's summary.

Result lines (keys in this order; ``id`` only when the input line had one, copied as is):

- success (2xx): ``{"index": 3, "id": "a", "status": 200, "body": <parsed JSON, text, or null when empty>}``
- failure: ``{"index": 3, "id": "a", "status": <HTTP status or null>, "error": "<one line>",
  "errorKind": "input|refused|http|auth|network|internal", "body": <the server's error body, HTTP and auth errors>}``

``errorKind``: ``input`` the line is not a request; ``refused`` a rule of `devops-rest call` refused it before
sending (bad placeholder, a URL off the organization, ...); ``http`` the service answered a non-2xx status;
``auth`` the service refused the identity (401, or a 203 sign-in page): retrying will not help, the login must
change; ``network`` no usable answer (connection failure, retries exhausted); ``internal`` a bug (logged with
--debug).
"""
import json
from dataclasses import dataclass
from typing import Any, Optional

from azext_devopstoken._batch_input import NO_ID

ERROR_KINDS = ('input', 'refused', 'http', 'auth', 'network', 'internal')


@dataclass
class Result:
    index: int
    status: Optional[int] = None
    body: Any = None
    error: Optional[str] = None
    error_kind: Optional[str] = None
    request_id: Any = NO_ID

    @property
    def ok(self):
        return self.error is None

    def to_json(self):
        document = {'index': self.index}
        if self.request_id is not NO_ID:
            document['id'] = self.request_id
        document['status'] = self.status
        if self.ok:
            document['body'] = self.body
            return document
        document['error'] = self.error
        document['errorKind'] = self.error_kind
        if self.error_kind in ('http', 'auth'):
            document['body'] = self.body
        return document


def one_line(text):
    return ' '.join(str(text).split())


def answered(index, status, body, request_id=NO_ID):
    """The result for an answer that arrived: success for 2xx, an ``http`` error otherwise."""
    if 200 <= status < 300:
        return Result(index, status=status, body=body, request_id=request_id)
    return Result(index, status=status, body=body, error=http_error_message(status, body), error_kind='http',
                  request_id=request_id)


def http_error_message(status, body):
    """'Azure DevOps answered 404: <the message of its error body>' (the body's message, or short plain text)."""
    message = None
    if isinstance(body, dict):
        error = body.get('error')
        message = body.get('message') or (error.get('message') if isinstance(error, dict) else None)
    elif isinstance(body, str) and '<html' not in body[:200].lower():
        message = body[:300]
    message = one_line(message) if message else ''
    return 'Azure DevOps answered %d%s' % (status, (': ' + message) if message else '.')


class LineWriter:
    """Writes each result as one compact JSON line (UTF-8) and flushes it, so a reader of the pipe sees it at
    once. An ``OSError`` (the reader went away: EPIPE) propagates: the batch then stops."""

    def __init__(self, stream):
        self._binary = getattr(stream, 'buffer', None)
        self._stream = stream

    def write(self, result):
        line = json.dumps(result.to_json(), ensure_ascii=False, separators=(',', ':')) + '\n'
        if self._binary is not None:
            self._binary.write(line.encode('utf-8'))
            self._binary.flush()
        else:
            self._stream.write(line)
            self._stream.flush()


@dataclass
class BatchSummary:
    """What the batch did. ``stopped``: None (every line ran), 'error' (--stop-on-error), 'interrupted'
    (Ctrl-C / SIGTERM) or 'output' (stdout closed). ``not_run``: lines read but not sent, or sent but not
    finished when the batch was abandoned (they have no result line)."""
    lines: int = 0
    succeeded: int = 0
    failed: int = 0
    not_run: int = 0
    pauses: int = 0
    stopped: Optional[str] = None
    input_error: Optional[str] = None

    @property
    def exit_code(self):
        return 0 if not self.failed and self.stopped is None and self.input_error is None else 1

    def count(self, result):
        if result.ok:
            self.succeeded += 1
        else:
            self.failed += 1

    def describe(self):
        """One line for stderr/the error message, e.g. '200 lines: 197 succeeded, 3 failed.'"""
        plural = '' if self.lines == 1 else 's'
        text = '%d line%s: %d succeeded, %d failed' % (self.lines, plural, self.succeeded, self.failed)
        if self.not_run:
            text += ', %d not run' % self.not_run
        reasons = {'error': 'stopped after the first failure (--stop-on-error)', 'interrupted': 'interrupted',
                   'output': 'the output was closed'}
        if self.stopped:
            text += '; ' + reasons[self.stopped]
        if self.input_error:
            text += '; reading the input failed: ' + self.input_error
        return text + '.'
