"""Where a response body goes: back to knack (JSON), straight to stdout (other text), or to a file.

``--output-file`` rules: a regular file (new or existing) is written to a temporary ``.NAME.XXXX.part`` file
beside it and renamed over it only when every byte has arrived and reached the disk; an existing file keeps its
mode (and owner/group where allowed); a symlink keeps pointing where it did and its final target gets the bytes.
Anything that is not a regular file (a device such as /dev/null, a FIFO, a socket) or that is reached through
/proc (/dev/stdout, /dev/fd/N) is appended to straight through, as a shell redirection would: renaming over it
would replace it.
A signal that ends the command (SIGTERM, SIGHUP, SIGINT, SIGQUIT) while the temporary file exists removes it
first and is then delivered again to the handler that was there before. SIGPIPE is left alone: Python ignores
it, so a reader that goes away shows up as EPIPE, reported like any other write failure.
"""
import errno
import os
import stat
import sys
import tempfile

from azure.cli.core.azclierror import FileOperationError

CHUNK = 1024 * 1024
_TERMINATING_SIGNALS = ('SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT')
_MAGIC_ROOT = '/proc/'  # /dev/stdout, /dev/fd/N: magic links to whatever the descriptor holds, maybe a regular file
_FULL = {errno.ENOSPC: 'no space left on device', errno.EIO: 'an input/output error on the device',
         errno.EFBIG: 'the file is larger than the file system allows'}
if hasattr(errno, 'EDQUOT'):
    _FULL[errno.EDQUOT] = 'the disk quota is exceeded'


def is_json(response):
    media = response.headers.get('Content-Type', '').split(';')[0].strip().lower()
    return media == 'application/json' or media.endswith('+json')


def is_stream_target(path):
    """True when ``path`` must be written straight through rather than replaced by a rename: it exists and is
    not a regular file (device, FIFO, socket), or it is reached through /proc (a descriptor's magic link)."""
    if _reached_through_proc(path):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # missing or a dangling symlink: a new regular file will be made


def _reached_through_proc(path):
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own symlink limit
        parent = os.path.realpath(os.path.dirname(current))
        if current.startswith(_MAGIC_ROOT) or (parent + '/').startswith(_MAGIC_ROOT):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.normpath(os.path.join(parent, os.readlink(current)))
    return False


def check_output_file(path):
    """Fail before anything is sent when --output-file cannot be written; returns the absolute path."""
    target = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(target):
        raise FileOperationError('--output-file %s is a directory; give a file path.' % path)
    if is_stream_target(target):
        if os.path.exists(target) and not os.access(target, os.W_OK):
            raise FileOperationError('--output-file %s is not writable.' % path)
        return target
    real = os.path.realpath(target)
    folder = os.path.dirname(real)
    where = '' if real == target else ' (the link points to %s)' % real
    if os.path.isdir(real):
        raise FileOperationError('--output-file %s%s is a directory; give a file path.' % (path, where))
    if not os.path.isdir(folder):
        raise FileOperationError('--output-file %s%s: the folder %s does not exist.' % (path, where, folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileOperationError('--output-file %s%s: the folder %s is not writable.' % (path, where, folder))
    return target


def write_atomically(target, chunks):
    """Write ``chunks`` (an iterable of bytes) to ``target`` following the module's rules; returns the number of
    bytes written. On any failure or terminating signal no temporary file is left, and an existing regular file
    is untouched (a hard-linked file becomes a file of its own, as with any atomic replace). Errors of the file
    system are one FileOperationError; errors raised by ``chunks`` (e.g. a connection cut mid-body) propagate
    unchanged."""
    if is_stream_target(target):
        return _write_through(target, chunks)
    real = os.path.realpath(target)
    try:
        existing = os.stat(real)
    except FileNotFoundError:
        existing = None
    except OSError as ex:
        raise _file_error(target, ex) from None
    with _CleanupOnSignal() as guard:
        return _write_and_rename(target, real, existing, chunks, guard)


def _write_and_rename(target, real, existing, chunks, guard):
    written = 0
    try:
        with guard.deferred():  # a signal here would leak the file between mkstemp and knowing its name
            handle, guard.temporary = tempfile.mkstemp(prefix='.%s.' % os.path.basename(real), suffix='.part',
                                                       dir=os.path.dirname(real))
        with os.fdopen(handle, 'wb', buffering=0) as out:  # unbuffered: no flush at close to fail a second time
            _checked(target, _copy_metadata, handle, existing)
            for chunk in chunks:
                _checked(target, _write_all, out, chunk)
                written += len(chunk)
            _checked(target, os.fsync, handle)  # a full disk can surface only here (delayed allocation, NFS)
        with guard.deferred():
            _checked(target, os.replace, guard.temporary, real)
            guard.temporary = None
    except BaseException:
        guard.remove_temporary()
        raise
    return written


def _write_all(out, data):
    view = memoryview(data)
    while view:
        view = view[out.write(view):]


def _copy_metadata(handle, existing):
    """mkstemp makes 0600: a new file gets the usual 0666 & ~umask, an existing one keeps its mode and owner."""
    if existing is None:
        os.chmod(handle, 0o666 & ~_umask())
        return
    if hasattr(os, 'fchown') and (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.fchown(handle, existing.st_uid, existing.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the bytes still arrive, owned by us
    os.chmod(handle, stat.S_IMODE(existing.st_mode))


def _write_through(target, chunks):
    written = 0
    try:
        out = _open_stream(target)
    except OSError as ex:
        raise _file_error(target, ex) from None
    with out:
        for chunk in chunks:
            _checked(target, _write_all, out, chunk)
            written += len(chunk)
    return written


def _open_stream(target):
    if stat.S_ISSOCK(os.stat(target).st_mode):
        import socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # pylint: disable=no-member
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        return _SocketStream(sock)
    # Append, never truncate: a regular file behind /dev/stdout may already hold what others wrote to it.
    return open(target, 'ab', buffering=0)  # pylint: disable=consider-using-with


class _SocketStream:
    def __init__(self, sock):
        self._sock = sock

    def write(self, data):
        self._sock.sendall(data)
        return len(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._sock.close()


def _checked(target, operation, *args):
    try:
        return operation(*args)
    except OSError as ex:
        raise _file_error(target, ex) from None


def _file_error(target, ex):
    if ex.errno in _FULL:
        reason = '%s (%s)' % (_FULL[ex.errno], errno.errorcode.get(ex.errno, ex.errno))
        return FileOperationError('Could not write --output-file %s: %s; nothing was written.' % (target, reason),
                                  recommendation='Free some space or choose a file on another disk, then retry.')
    if ex.errno == errno.EPIPE:
        return FileOperationError('Could not write --output-file %s: its reader went away (broken pipe).'
                                  % target)
    return FileOperationError('Could not write --output-file %s: %s.' % (target, ex.strerror or ex))


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current


class TerminatedBySignal(BaseException):
    """Raised inside a guarded write when a terminating signal arrives; never escapes write_atomically."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class _CleanupOnSignal:
    """For the duration of a write: terminating signals raise TerminatedBySignal (so the temporary file is
    removed on the way out), then the previous handlers are restored and the signal is delivered again, so the
    command ends as it would have (SIG_DFL: killed by the signal, exit status 128+signum in a shell;
    SIGINT: KeyboardInterrupt). Signals the process ignores stay ignored. Only the main thread can do this."""

    def __init__(self):
        self.temporary = None
        self.signum = None
        self._previous = {}

    def __enter__(self):
        import signal
        import threading
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in _TERMINATING_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            previous = signal.getsignal(signum)
            if previous in (signal.SIG_IGN, None):
                continue  # ignored (nohup) or set outside Python: leave it as it is
            signal.signal(signum, self._handle)
            self._previous[signum] = previous
        return self

    def _handle(self, signum, _frame):
        if self.signum is None:  # a second signal during the clean-up must not interrupt it
            self.signum = signum
            raise TerminatedBySignal(signum)

    def deferred(self):
        """A block during which terminating signals wait (POSIX), delivered when it ends."""
        return _Blocked(list(self._previous))

    def remove_temporary(self):
        if self.temporary:
            try:
                os.unlink(self.temporary)
            except OSError:
                pass
            self.temporary = None

    def __exit__(self, exc_type, exc, tb):
        import signal
        self.remove_temporary()
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        if isinstance(exc, TerminatedBySignal):
            signal.raise_signal(exc.signum)  # the previous disposition decides: die, or e.g. KeyboardInterrupt
            raise SystemExit(128 + exc.signum)  # a previous handler that returned: still end as the signal asks
        return False


class _Blocked:
    def __init__(self, signals):
        self._signals = signals

    def __enter__(self):
        import signal
        if self._signals and hasattr(signal, 'pthread_sigmask'):
            signal.pthread_sigmask(signal.SIG_BLOCK, self._signals)
        return self

    def __exit__(self, *exc):
        import signal
        if self._signals and hasattr(signal, 'pthread_sigmask'):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self._signals)
        return False


def write_raw_to_stdout(data):
    """One body (bytes) to stdout as it is."""
    return write_stream_to_stdout([data])


def write_stream_to_stdout(chunks):
    """Chunks of bytes to stdout as they arrive, in constant memory; returns the bytes written. A reader that
    goes away (``| head``) ends the output quietly, as it does for other command-line tools."""
    stream = getattr(sys.stdout, 'buffer', None)
    written = 0
    if stream is None:  # a text-only stdout (tests, some hosts): decode across chunk boundaries
        import codecs
        decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')
        for chunk in chunks:
            sys.stdout.write(decoder.decode(chunk))
            written += len(chunk)
        sys.stdout.write(decoder.decode(b'', final=True))
        sys.stdout.flush()
        return written
    try:
        for chunk in chunks:
            stream.write(chunk)
            stream.flush()
            written += len(chunk)
    except BrokenPipeError:
        _silence_stdout()
    return written


def _silence_stdout():
    """Point fd 1 at /dev/null so that Python's flush at exit does not report the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
