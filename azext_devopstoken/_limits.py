"""Bodies read from Azure DevOps in bounded memory: a JSON answer held for az's output stops at MAX_JSON_BYTES
(decompressed: urllib3 >= 2.6 inflates at most the amount asked for per read, so a gzip bomb is counted as it
inflates), and a body cut off mid-read is one az error rather than a traceback."""
import contextlib

MAX_JSON_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1024 * 1024


def too_large(limit=MAX_JSON_BYTES):
    from azure.cli.core.azclierror import AzureResponseError
    return AzureResponseError('The response is larger than %d MiB (decompressed); it is not held in memory.'
                              % (limit // (1024 * 1024)),
                              recommendation='Save it with --output-file FILE (streamed, any size).')


@contextlib.contextmanager
def body_errors_as_az_errors(response):
    """Failures while reading a streamed body (cut off, reset, time-out) as az errors; the response is closed."""
    from requests.exceptions import RequestException
    from urllib3.exceptions import HTTPError
    try:
        yield
    except (RequestException, HTTPError) as ex:
        from azext_devopstoken._errors import devops_unreachable
        raise devops_unreachable(ex, 1) from None
    except MemoryError:
        raise too_large() from None
    finally:
        response.close()


def read_bounded(response, limit=MAX_JSON_BYTES):
    """The whole (decompressed) body of a streamed response, or the too-large error past ``limit`` bytes."""
    data = bytearray()
    with body_errors_as_az_errors(response):
        for chunk in response.iter_content(READ_CHUNK):
            data += chunk
            if len(data) > limit:
                raise too_large(limit)
    return bytes(data)


def body_chunks(response):
    """The body's chunks as they arrive (for stdout or a file), with read failures as az errors."""
    with body_errors_as_az_errors(response):
        yield from response.iter_content(READ_CHUNK)
