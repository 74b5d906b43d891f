"""Delay-mode throttling: Azure DevOps first delays a busy identity's requests and answers them with 200 plus
``Retry-After`` ("Honor the Retry-After header: If you receive it in a response, wait the specified time before
sending another request. The response still returns HTTP 200, so retry logic isn't required." — Learn, "Rate and
usage limits"). So the wait comes before the *next* request of the command (next page), never before returning the
current answer; ``X-RateLimit-Delay`` is the delay the service already applied and is not waited again.
"""
import time

from knack.log import get_logger

logger = get_logger(__name__)


def pause_if_asked(response, policy, sleep=time.sleep):
    """Sleep for a successful answer's Retry-After, within the retry budget (--max-retry-wait); returns the
    seconds slept."""
    from azext_devopstoken._http import retry_after_seconds
    if response.status_code >= 300:
        return 0.0
    seconds = retry_after_seconds(response)
    if not seconds:
        return 0.0
    seconds = min(seconds, policy.max_wait)
    warn_delayed(response, seconds)
    sleep(seconds)
    return seconds


def warn_delayed(response, seconds):
    """The warning for a delayed answer's wait (one at a time here; every worker's with --parallel)."""
    resource = response.headers.get('X-RateLimit-Resource')
    logger.warning('Azure DevOps is delaying requests%s and asks to wait %.1f s before the next one; waiting.',
                   ' (resource %s)' % resource if resource else '', seconds)
