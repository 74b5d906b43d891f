"""`az devops-rest batch`: many requests in one process, ``parallel`` in flight, results streamed in input order.

The engine knows nothing about tokens or URLs: it runs two callables given by the command,

- ``prepare(BatchRequest) -> prepared``: applies every rule of `devops-rest call --path` (placeholders, the
  api-version default, the organization boundary); raising an az error refuses the line (``refused`` result);
- ``send(prepared) -> (status, headers, body)``: sends it (thread-safe: one requests.Session whose pool holds
  ``parallel`` connections), ``body`` parsed JSON, text, or None. It raises :class:`RequestFailed` (or an az
  error) when no usable answer arrived.

Threads: one reader (input → work queue, at most ``window`` lines read but not yet written), ``parallel``
workers, and the calling thread, which writes results in input order as soon as each one and all before it are
done. Memory is bounded by the window, not by the number of lines.

Stopping: with ``stop_on_error`` the first failure (in completion order) stops the reading; requests already
in flight finish and are written; lines read but not started are not sent and get no result line (so indexes
in the output may have gaps). Ctrl-C or SIGTERM does the same; a second one abandons the requests still in
flight (results that already arrived are written, in order). The summary says what happened.
"""
import queue
import signal
import sys
import threading

from knack.log import get_logger

from azext_devopstoken._batch_gate import ThrottleGate
from azext_devopstoken._batch_input import InputError, read_requests
from azext_devopstoken._batch_output import BatchSummary, LineWriter, Result, answered, one_line

logger = get_logger(__name__)

DEFAULT_PARALLEL = 4
LOOK_AHEAD = 4      # lines read ahead per worker: the window is parallel * LOOK_AHEAD lines
_SKIPPED = object()


class RequestFailed(Exception):
    """What ``send`` raises when no usable answer arrived: ``kind`` 'network' (connection failure, retries
    exhausted) or 'auth' (401, sign-in page); ``status`` is the HTTP status when there was one, ``body`` the
    answer's body."""

    def __init__(self, message, status=None, body=None, kind='network'):
        super().__init__(message)
        self.status = status
        self.body = body
        self.kind = kind


def run_batch(lines, send, out, prepare=None, parallel=DEFAULT_PARALLEL, stop_on_error=False, gate=None,
              progress=None, look_ahead=LOOK_AHEAD):
    """Run every request of ``lines`` (an iterable of str/bytes lines, consumed lazily) and write one result
    line per non-blank input line to ``out``. Returns a :class:`BatchSummary`; never raises for a line."""
    if parallel < 1:
        raise ValueError('parallel must be 1 or more')
    batch = _Batch(lines, prepare or (lambda request: request), send, LineWriter(out), parallel, stop_on_error,
                   gate or ThrottleGate(parallel), progress, parallel * max(1, look_ahead))
    with _interrupts_to(batch.interrupt):
        return batch.run()


class _Batch:  # pylint: disable=too-many-instance-attributes
    def __init__(self, lines, prepare, send, writer, parallel, stop_on_error, gate, progress, window):
        self._lines, self._prepare, self._send, self._writer = lines, prepare, send, writer
        self._parallel, self._stop_on_error, self._gate, self._progress = parallel, stop_on_error, gate, progress
        self._slots = threading.Semaphore(window)       # lines read but not yet written
        self._work = queue.Queue()
        # ('result', seq, Result|_SKIPPED), ('eof', None, error) or ('interrupt', None, None). A SimpleQueue
        # because its put() may be called from a signal handler.
        self._events = queue.SimpleQueue()
        self._interrupts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._dispatched = 0                            # sequence numbers handed out (non-blank lines read)
        self._eof = False
        self._pending = {}                              # seq -> Result|_SKIPPED, finished but not yet written
        self._next = 0                                  # the next sequence number to write
        self.summary = BatchSummary()

    # -- the calling thread ----------------------------------------------------------------------------
    def run(self):
        threads = [threading.Thread(target=self._read, name='batch-reader', daemon=True)]
        threads += [threading.Thread(target=self._serve, name='batch-worker-%d' % n, daemon=True)
                    for n in range(self._parallel)]
        for thread in threads:
            thread.start()
        try:
            self._drain()
        finally:
            self._stop(None)
            for _ in range(self._parallel):
                self._work.put(None)
            self.summary.pauses = self._gate.pauses
            self.summary.lines = self._dispatched
            self.summary.not_run = self._dispatched - self.summary.succeeded - self.summary.failed
            if self._progress is not None:
                self._progress.end(self.summary)
        return self.summary

    def interrupt(self):
        """Ctrl-C / SIGTERM (called from the signal handler: only a put, handled by the loop below)."""
        self._events.put(('interrupt', None, None))

    def _drain(self):
        """Take finished results and write them in order until every line read has been written."""
        while not self._finished():
            try:
                # A timeout, so that a signal delivered to another thread still gets its handler run here soon.
                kind, seq, payload = self._events.get(timeout=0.5)
            except queue.Empty:
                continue
            if kind == 'interrupt':
                if self._on_interrupt():
                    return
            elif kind == 'eof':
                with self._lock:
                    self._eof = True
                if payload is not None:
                    self.summary.input_error = one_line(payload)
            else:
                self._take(seq, payload)

    def _take(self, seq, payload):
        self._pending[seq] = payload
        if payload is not _SKIPPED:
            self.summary.count(payload)
            if not payload.ok and self._stop_on_error:
                self._stop('error')
        self._write_ready()
        if self._progress is not None and payload is not _SKIPPED:
            self._progress.update(self.summary)

    def _on_interrupt(self):
        """First interrupt: stop reading, let requests in flight finish. Second: abandon them (True)."""
        self._interrupts += 1
        if self._interrupts == 1:
            logger.warning('Interrupted: waiting for the requests in flight (interrupt again to abandon them).')
            self._stop('interrupted')
            return False
        self._abandon()
        return True

    def _finished(self):
        with self._lock:
            done_reading = self._eof or self._stopping.is_set()
            return done_reading and self._next >= self._dispatched

    def _write_ready(self):
        while self._next in self._pending:
            self._write(self._pending.pop(self._next))
            self._next += 1
            self._slots.release()

    def _write(self, result):
        if result is _SKIPPED or self.summary.stopped == 'output':
            return
        try:
            self._writer.write(result)
        except OSError as ex:  # the reader of our output went away (EPIPE): nothing more can be written
            logger.debug('Writing results failed (%s); stopping.', ex)
            self._stop('output')
            self.summary.stopped = 'output'

    def _abandon(self):
        """Write what has arrived, in order (with gaps for what has not), and leave the rest in flight."""
        logger.warning('Abandoning the requests still in flight.')
        while True:
            try:
                kind, seq, payload = self._events.get_nowait()
            except queue.Empty:
                break
            if kind == 'result':
                self._pending[seq] = payload
                if payload is not _SKIPPED:
                    self.summary.count(payload)
        for seq in sorted(self._pending):
            self._write(self._pending.pop(seq))

    def _stop(self, reason):
        """Stop reading new lines (``reason`` None: the batch is over anyway)."""
        with self._lock:
            first = not self._stopping.is_set()
            self._stopping.set()
        if reason and first and self.summary.stopped is None:
            self.summary.stopped = reason
        if first:
            self._slots.release()  # a reader waiting for a slot wakes up and sees the stop
            if reason != 'error':
                self._gate.stop()  # no new request, and no pause is sat out

    # -- the reader thread -------------------------------------------------------------------------------
    def _read(self):
        error = None
        try:
            self._read_lines(read_requests(self._lines))
        except (OSError, ValueError) as ex:  # the input could not be read (EIO, a closed file)
            error = '%s: %s' % (type(ex).__name__, ex)
        finally:
            self._events.put(('eof', None, error))

    def _read_lines(self, requests):
        while True:
            self._slots.acquire()  # pylint: disable=consider-using-with
            if self._stopping.is_set():
                return
            item = next(requests, None)
            if item is None:
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                seq = self._dispatched
                self._dispatched += 1
            self._dispatch(seq, *item)

    def _dispatch(self, seq, index, item):
        if isinstance(item, InputError):
            result = Result(index, error=one_line(item), error_kind='input', request_id=item.request_id)
            self._events.put(('result', seq, result))
        else:
            self._work.put((seq, item))

    # -- the worker threads ----------------------------------------------------------------------------
    def _serve(self):
        while True:
            item = self._work.get()
            if item is None:
                return
            seq, request = item
            try:
                result = _SKIPPED if self._stopping.is_set() else self._run_one(request)
            except Exception as ex:  # pylint: disable=broad-except
                logger.debug('batch worker failed', exc_info=True)
                result = _failure(request, 'internal error: %s: %s' % (type(ex).__name__, ex), 'internal')
            self._events.put(('result', seq, result))

    def _run_one(self, request):
        """The result of one request (a bug in prepare/send becomes an ``internal`` result)."""
        try:
            prepared = self._prepare(request)
        except Exception as ex:  # pylint: disable=broad-except
            return _failure(request, *_refusal(ex))
        if not self._gate.enter():
            return _SKIPPED
        status = headers = None
        try:
            status, headers, body = self._send(prepared)
        except RequestFailed as ex:
            return _failure(request, ex, ex.kind, ex.status, ex.body)
        except Exception as ex:  # pylint: disable=broad-except
            return _failure(request, *_send_failure(ex))
        finally:
            self._gate.leave(status, headers)
        return answered(request.index, status, body, request.request_id)


def _failure(request, message, kind, status=None, body=None):
    return Result(request.index, status=status, body=body, error=one_line(message), error_kind=kind,
                  request_id=request.request_id)


def _refusal(ex):
    from knack.util import CLIError
    if isinstance(ex, CLIError):
        return str(ex), 'refused'
    logger.debug('prepare failed', exc_info=True)
    return 'internal error while preparing the request: %s: %s' % (type(ex).__name__, ex), 'internal'


def _send_failure(ex):
    from knack.util import CLIError
    if isinstance(ex, CLIError):
        return str(ex), 'network'
    logger.debug('send failed', exc_info=True)
    return 'internal error while sending the request: %s: %s' % (type(ex).__name__, ex), 'internal'


class _interrupts_to:  # pylint: disable=invalid-name
    """Ctrl-C and SIGTERM (CI cancelling a job) call ``handler`` instead of raising in the middle of the
    bookkeeping; only in the main thread (elsewhere signals cannot be handled), restored afterwards."""
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, handler):
        self._handler = handler
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, lambda signum, frame: self._handler())
        return self

    def __exit__(self, *exc):
        for number, previous in self._previous.items():
            signal.signal(number, previous)


class TerminalProgress:
    """Progress on stderr through az's progress controller (a spinner with counts), only when stderr is a
    terminal and stdout is not: when the results go to the terminal they are the progress."""

    def __init__(self, cli_ctx, stdout=None, stderr=None):
        stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
        self._hook = None
        if _isatty(stderr) and not _isatty(stdout):
            self._hook = cli_ctx.get_progress_controller(det=False)
            self._hook.begin(message='Batch: starting')

    @property
    def active(self):
        return self._hook is not None

    def update(self, summary):
        if self._hook is not None:
            self._hook.add(message='Batch: %d done, %d failed' % (summary.succeeded + summary.failed,
                                                                  summary.failed))

    def end(self, summary):
        if self._hook is not None:
            self._hook.end(message=summary.describe())
            self._hook = None


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
