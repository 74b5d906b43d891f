"""--input FILE|-: a request body sent byte for byte, in constant memory, always with a Content-Length.

A regular file is streamed from disk with its size as Content-Length. Standard input, pipes and other
non-regular files (``<(cmd)``, /dev/stdin) are first copied to a spool that stays in memory up to
SPOOL_MEMORY bytes and spills to a temporary file beyond, so their length is known too: Azure DevOps
refuses bodies without a Content-Length on some routes (task logs: "ContentLength header must be specified
to create a log", microsoft/azure-devops-python-api#419; secure files, microsoft/azure-devops-node-api#474;
its front end answers 411 to a body with neither length nor chunking, githubnext/ado-aw#1420), where gh api
sends stdin chunked (cli/cli pkg/cmd/api/api.go openUserFile: size -1). The body is seekable, so a retry can
rewind it.

The path is taken as given: az replaces an argument ``@FILE`` with the file's text before the command runs
(azure-cli-core ``_expand_file_prefixed_files``), so ``--input @FILE`` is refused with that explanation, and
the value is never echoed when it may be such text.
"""
import os
import stat
import tempfile

from azext_devopstoken._text import printable

INPUT_FLAG = '--input'
DEFAULT_INPUT_CONTENT_TYPE = 'application/octet-stream'
SPOOL_MEMORY = 8 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


class InputBody:
    """An open, seekable binary body and its length in bytes; close it (or use ``with``) when sent."""

    def __init__(self, stream, length):
        self.stream, self.length = stream, length

    def rewind(self):
        self.stream.seek(0)

    # requests sends an object with read() and __len__ as a stream with that Content-Length (utils.super_len);
    # urllib3 reads it in blocks, so the whole body is never in memory.
    def read(self, size=-1):
        return self.stream.read(size)

    def __len__(self):
        return self.length

    def __iter__(self):
        return iter(lambda: self.stream.read(_COPY_CHUNK), b'')

    def close(self):
        self.stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return 'InputBody(length=%d)' % self.length


def open_input(value, stdin=None):
    """The body --input VALUE names: '-' for standard input (``stdin``: a binary stream, default
    sys.stdin.buffer), else a file path. Errors are one-line az errors naming --input."""
    from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError
    if not value:
        raise InvalidArgumentValueError('--input needs a file path, or - for standard input.')
    if value == '-':
        import sys
        source = stdin if stdin is not None else getattr(sys.stdin, 'buffer', None)
        if source is None:
            raise FileOperationError('--input -: standard input is not available.')
        return _spooled(source, 'standard input')
    if value.startswith('@'):
        raise InvalidArgumentValueError('--input takes a file path without @ (%s).' % _shown(value),
                                        recommendation='Write --input FILE: az itself would replace @FILE '
                                                       "with the file's text.")
    return _open_path(value)


def _open_path(value):
    from azure.cli.core.azclierror import FileOperationError
    try:
        handle = open(os.path.expanduser(value), 'rb')  # pylint: disable=consider-using-with
    except FileNotFoundError:
        # When az expanded an '@FILE' the value is that file's text: never echo what may be its content.
        shown = ' (%s)' % _shown(value) if _looks_like_path(value) else ''
        raise FileOperationError('--input: no such file%s.' % shown,
                                 recommendation='Give the path of the file to send, or - for standard input.') from None
    except IsADirectoryError:
        raise FileOperationError('--input %s is a directory; give a file.' % _shown(value)) from None
    except OSError as ex:
        raise FileOperationError('--input %s: cannot open the file: %s.' % (_shown(value), ex.strerror or ex)) from None
    info = os.fstat(handle.fileno())
    if stat.S_ISDIR(info.st_mode):  # Windows opens some directories
        handle.close()
        raise FileOperationError('--input %s is a directory; give a file.' % _shown(value))
    if stat.S_ISREG(info.st_mode):
        return InputBody(handle, info.st_size)  # the caller closes it
    with handle:
        return _spooled(handle, _shown(value))


def _spooled(source, name):
    """Copy a non-seekable stream into a spool (memory up to SPOOL_MEMORY, then a temporary file)."""
    from azure.cli.core.azclierror import FileOperationError
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # pylint: disable=consider-using-with
    length = 0
    try:
        while True:
            chunk = source.read(_COPY_CHUNK)
            if not chunk:
                break
            if isinstance(chunk, str):
                raise FileOperationError('--input %s: the stream is text, not bytes.' % name)
            spool.write(chunk)
            length += len(chunk)
        spool.seek(0)
    except OSError as ex:
        spool.close()
        raise FileOperationError('--input %s: cannot read it: %s.' % (name, ex.strerror or ex)) from None
    except BaseException:
        spool.close()
        raise
    return InputBody(spool, length)


def _looks_like_path(value):
    return len(value) <= 255 and value.isprintable() and value.strip() == value


def _shown(value):
    return printable(value, 120)
