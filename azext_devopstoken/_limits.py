"""Bodies read from Azure DevOps in bounded memory: a JSON answer held for az's output stops at MAX_JSON_BYTES
(decompressed, and inflated a chunk at a time on every urllib3 (_inflate), so a gzip bomb is counted as it
inflates), and a body cut off mid-read is one az error rather than a traceback."""
import contextlib

MAX_JSON_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1024 * 1024
ERROR_BODY_BYTES = 16 * 1024 * 1024  # of an error answer, read for its message (shown cut to 1,000 characters)
STREAM_CHUNK = 64 * 1024  # a stream must move this much per deadline (see _deadline)


def too_large(limit=MAX_JSON_BYTES):
    from azure.cli.core.azclierror import AzureResponseError
    return AzureResponseError('The response is larger than %d MiB (decompressed); it is not held in memory.'
                              % (limit // (1024 * 1024)),
                              recommendation='Save it with --output-file FILE (streamed, any size).')


@contextlib.contextmanager
def body_errors_as_az_errors(response, passthrough=()):
    """Failures while reading a streamed body (cut off, reset, time-out, the request's deadline) as az errors,
    except those of the types in ``passthrough`` (for a caller that asks again; a deadline that passed is a
    _deadline.DeadlineExceeded, a requests ConnectionError); the response is closed."""
    from requests.exceptions import RequestException
    from urllib3.exceptions import HTTPError
    deadline = getattr(response, 'deadline', None)
    failure = None
    try:
        yield
    except (RequestException, HTTPError, OSError) as ex:
        expired = deadline is not None and deadline.expired
        failure = deadline.exceeded() if expired else ex
    except MemoryError:
        raise too_large() from None
    finally:
        if deadline is not None:
            deadline.cancel()
        response.close()
    if failure is not None:
        if isinstance(failure, passthrough):
            raise failure
        from azext_devopstoken._errors import devops_unreachable
        raise devops_unreachable(failure, 1)


def read_bounded(response, limit=MAX_JSON_BYTES, passthrough=()):
    """The whole (decompressed) body of a streamed response, or the too-large error past ``limit`` bytes."""
    data = bytearray()
    with body_errors_as_az_errors(response, passthrough):
        for chunk in paced(response, READ_CHUNK, rearm=False):
            data += chunk
            if len(data) > limit:
                raise too_large(limit)
    return bytes(data)


def hold_error_body(response, limit=ERROR_BODY_BYTES):
    """Read at most ``limit`` bytes of a streamed error answer into ``response.content`` (for its message), under
    the request's deadline; the rest is not read."""
    if getattr(response, '_content_consumed', True):
        return
    data = bytearray()
    with body_errors_as_az_errors(response):
        for chunk in paced(response, READ_CHUNK, rearm=False):
            data += chunk
            if len(data) >= limit:
                break
    response._content = bytes(data[:limit])  # pylint: disable=protected-access
    response._content_consumed = True  # pylint: disable=protected-access


def body_chunks(response):
    """The body's chunks as they arrive (for stdout or a file), with read failures as az errors."""
    with body_errors_as_az_errors(response):
        yield from paced(response, STREAM_CHUNK)


def paced(response, size, rearm=True):
    """The decoded body in chunks of ``size`` bytes (_inflate: never more inflated at once) under the request's
    deadline, re-armed after every chunk when ``rearm``: a stream that keeps moving (``size`` bytes per deadline)
    is never cut, a stalled or trickling one is. A body that ended because the deadline shut its socket is the
    deadline's DeadlineExceeded, never a short success."""
    from azext_devopstoken._inflate import decoded_chunks
    deadline = getattr(response, 'deadline', None)
    for chunk in decoded_chunks(response, size):
        if deadline is not None and rearm:
            deadline.arm()
        yield chunk
    if deadline is not None and deadline.expired:
        raise deadline.exceeded()
