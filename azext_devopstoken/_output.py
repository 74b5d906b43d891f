"""Where a response body goes: back to knack (JSON), straight to stdout (other text), or to a file."""
import os
import sys
import tempfile

from azure.cli.core.azclierror import FileOperationError

CHUNK = 1024 * 1024


def is_json(response):
    media = response.headers.get('Content-Type', '').split(';')[0].strip().lower()
    return media == 'application/json' or media.endswith('+json')


def check_output_file(path):
    """Fail before anything is sent when --output-file cannot be written."""
    target = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise FileOperationError('--output-file %s is a directory; give a file path.' % path)
    if not os.path.isdir(folder):
        raise FileOperationError('--output-file %s: the folder %s does not exist.' % (path, folder))
    if not os.access(folder, os.W_OK):
        raise FileOperationError('--output-file %s: the folder %s is not writable.' % (path, folder))
    return target


def write_atomically(target, chunks):
    """Write ``chunks`` to a temporary file beside ``target`` and rename it into place only when all arrived;
    on any failure nothing is left behind (and an existing ``target`` is untouched)."""
    handle, temporary = tempfile.mkstemp(prefix='.%s.' % os.path.basename(target), suffix='.part',
                                         dir=os.path.dirname(target))
    written = 0
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a downloaded file gets the usual mode
        with os.fdopen(handle, 'wb') as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return written


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current


def write_raw_to_stdout(data):
    stream = getattr(sys.stdout, 'buffer', None)
    if stream is not None:
        stream.write(data)
        stream.flush()
    else:  # a text-only stdout (tests, some hosts)
        sys.stdout.write(data.decode('utf-8', errors='replace'))
        sys.stdout.flush()
