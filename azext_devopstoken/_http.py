"""Sending requests to Azure DevOps: one kept-alive session, time-outs, bounded retries that honour
Retry-After, redirects that never carry the token off the organization, and --debug logs without it.

Retries are a small loop here rather than urllib3's ``Retry``: the policy needs things ``Retry`` cannot
express (a WARNING per wait naming ``X-RateLimit-Resource``, a total-wait budget, POST/PATCH retried only
when the server cannot have processed them, and re-reading a streamed body). ``Retry.parse_retry_after``
still parses the header (seconds or HTTP-date).
"""
import random
import threading
import time
from dataclasses import dataclass, field

from knack.log import get_logger

logger = get_logger(__name__)

RETRY_STATUSES = (429, 502, 503, 504)
IDEMPOTENT = ('GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE')
MAX_REDIRECTS = 5
_KEPT_OFF_ORGANIZATION = ('user-agent', 'accept', 'accept-encoding')  # the only headers sent off the organization


def user_agent():
    from azure.cli.core import __version__ as core_version
    from azext_devopstoken._version import VERSION
    return 'devops-token/%s (azure-cli-core/%s)' % (VERSION, core_version)


@dataclass
class RetryPolicy:
    max_retries: int = 4        # retries after the first attempt
    max_wait: float = 120.0     # seconds spent waiting, summed over every retry of the command (all pages)
    backoff: float = 1.0
    backoff_max: float = 30.0
    spent: float = 0.0          # seconds waited so far; one policy per command, shared by every request
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def charge(self, seconds):
        """Count a wait against the budget; the workers of a batch or of --paginate --parallel share one policy."""
        with self._lock:
            self.spent += seconds

    def backoff_delay(self, attempt):
        """Exponential backoff with full jitter, for answers without Retry-After."""
        return random.uniform(0, min(self.backoff_max, self.backoff * (2 ** attempt)))


class GaveUp(Exception):
    """Retries exhausted on a connection failure (no response to show)."""

    def __init__(self, cause, attempts):
        super().__init__(str(cause))
        self.cause = cause
        self.attempts = attempts


def retry_after_seconds(response):
    from urllib3.util.retry import Retry
    value = response.headers.get('Retry-After')
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except Exception:  # pylint: disable=broad-except
        return None


def status_is_retryable(method, response):
    """429 and 503-with-Retry-After mean the server did not process the request: safe for any method.
    Other 5xx gateway answers are retried only for idempotent methods."""
    if response.status_code not in RETRY_STATUSES:
        return False
    if response.headers.get('X-VSS-HostOfflineError'):
        return False  # the organization is offline; retrying will not help
    if response.status_code == 429 or (response.status_code == 503 and 'Retry-After' in response.headers):
        return True
    return method in IDEMPOTENT


def connection_error_is_retryable(method, ex):
    """A refused or timed-out connect never reached the server; anything later may have been processed."""
    from requests import exceptions
    from azext_devopstoken._failures import never_connected, not_transient
    if not_transient(ex):
        return False
    if isinstance(ex, exceptions.ConnectTimeout) or never_connected(ex):
        return True
    return method in IDEMPOTENT and isinstance(ex, (exceptions.ConnectionError, exceptions.Timeout,
                                                    exceptions.ChunkedEncodingError))


def describe_failure(ex, lead='Could not reach Azure DevOps'):
    """The start of the WARNING before a retry after ``ex`` (no response to show)."""
    from azext_devopstoken._deadline import DeadlineExceeded
    if isinstance(ex, DeadlineExceeded):
        return 'Azure DevOps did not finish answering within %.0f s' % ex.seconds
    return '%s (%s)' % (lead, type(ex).__name__)


def describe_wait(response, seconds, attempt, max_retries):
    status = '%d %s' % (response.status_code, response.reason or '')
    resource = response.headers.get('X-RateLimit-Resource')
    throttled = ' (throttled on resource %s)' % resource if resource else ''
    from azext_devopstoken._text import printable
    return printable('Azure DevOps answered %s%s; retrying in %.1f s (retry %d of %d).' % (
        status.strip(), throttled, seconds, attempt, max_retries), 1000)


class _HeadersAsGiven:  # pylint: disable=too-few-public-methods
    """requests' auth hook that leaves the request as it is (requests.auth.AuthBase's interface)."""

    def __call__(self, request):
        return request


def redacted_headers(headers):
    """Headers for --debug, redacted by the rule -i uses (credential headers, and values that look like one)."""
    from azext_devopstoken._headers import redacted_value
    return {k: redacted_value(k, v) for k, v in headers.items()}


def off_organization_redirect(method, url):
    from urllib.parse import urlsplit
    from azure.cli.core.azclierror import AzureResponseError
    from azext_devopstoken._text import printable
    return AzureResponseError(
        'Azure DevOps redirected the %s to %s, off the organization; not sending the request there.'
        % (method, printable(urlsplit(url).netloc or url, 200)),
        recommendation='Check the --path and the organization URL; only GET and HEAD follow such redirects.')


class Transport:
    """One requests.Session for the whole command (connections are reused across pages); a context manager
    that closes it."""

    def __init__(self, timeout=(15.0, 120.0), policy=None, sleep=time.sleep, on_retry=None):
        import requests
        from ._adapter import mount_adapter
        self.session = requests.Session()
        mount_adapter(self.session)  # lengths enforced (urllib3 1.26 too); connections watched by deadlines
        # An auth object of our own keeps requests from putting ~/.netrc credentials (or a URL's user:password)
        # in place of our Authorization header; unlike trust_env=False it keeps proxies and REQUESTS_CA_BUNDLE.
        self.session.auth = _HeadersAsGiven()
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.on_retry = on_retry  # called with each answer about to be retried (a batch's throttling gate)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def send(self, method, url, params, headers, body, stream=False, owns=None):
        """Send with retries; returns the final requests.Response (any status). ``owns(url)`` says whether a
        redirect target belongs to the organization (the token goes only there)."""
        from requests.exceptions import RequestException
        attempt = 0
        while True:
            try:
                response = self._send_following_redirects(method, url, params, headers, body, stream, owns)
            except RequestException as ex:
                if not connection_error_is_retryable(method, ex) or attempt >= self.policy.max_retries:
                    raise GaveUp(ex, attempt + 1)
                delay = min(self.policy.backoff_delay(attempt), max(0.0, self.policy.max_wait - self.policy.spent))
                logger.warning('%s; retrying in %.1f s (retry %d of %d).', describe_failure(ex), delay,
                               attempt + 1, self.policy.max_retries)
            else:
                delay = self._retry_delay(method, response, attempt)
                if delay is None:
                    return response
                logger.warning(describe_wait(response, delay, attempt + 1, self.policy.max_retries))
                if self.on_retry is not None:
                    self.on_retry(response)
                response.close()
            self._sleep(delay)
            self.policy.charge(delay)
            attempt += 1

    def _retry_delay(self, method, response, attempt):
        """Seconds to wait before retrying ``response``, or None to return it as it is."""
        if attempt >= self.policy.max_retries or not status_is_retryable(method, response):
            return None
        delay = retry_after_seconds(response)
        if delay is None:
            delay = self.policy.backoff_delay(attempt)
        if self.policy.spent + delay > self.policy.max_wait:
            logger.warning('Azure DevOps answered %d and asks to wait %.0f s, beyond the retry budget '
                           '(--max-retry-wait %.0f s in total, %.0f s spent); giving up.', response.status_code,
                           delay, self.policy.max_wait, self.policy.spent)
            return None
        return delay

    def _send_following_redirects(self, method, url, params, headers, body, stream, owns):
        off_organization = False
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(method, url, params, headers, body, stream)
            location = response.headers.get('Location') if response.is_redirect else None
            if not location:
                return response
            from urllib.parse import urljoin
            url, params = urljoin(response.url, location), None
            response.close()
            if response.status_code == 303 or (response.status_code in (301, 302) and method == 'POST'):
                method, body = 'GET', None
            if off_organization or not (owns and owns(url)):
                # Off the organization (e.g. a signed storage URL): only a GET or HEAD is followed, and only with
                # our User-Agent, Accept and Accept-Encoding: never the token, the body or the caller's headers;
                # once off, it stays off (a hop back does not regain them).
                if method not in ('GET', 'HEAD'):
                    raise off_organization_redirect(method, url)
                off_organization, body = True, None
                headers = {k: v for k, v in headers.items() if k.lower() in _KEPT_OFF_ORGANIZATION}
                logger.debug('Redirected off the organization; following with %s only.', ', '.join(headers))
        return response

    def deadline_seconds(self):
        """Twice the connect plus read time-outs (at least 10 s): for the headers, and for a body held in memory."""
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        return max(10.0, 2 * (connect + read))

    def _request_within_deadline(self, method, url, params, headers, body, stream):
        """session.request under a Deadline; a streamed response keeps it (``response.deadline``) for its body.
        A deadline that passes raises DeadlineExceeded (a connection error, retried for idempotent methods)."""
        from requests.exceptions import RequestException
        from azext_devopstoken._deadline import Deadline
        deadline = Deadline(self.deadline_seconds())
        try:
            with deadline:
                response = self.session.request(method, url, params=params, headers=headers, data=body,
                                                stream=stream, timeout=self.timeout, allow_redirects=False)
        except (RequestException, OSError):
            deadline.cancel()
            if not deadline.expired:
                raise
            response = None
        if response is None:  # raised outside the handler: nothing chains it to the socket error it caused
            raise deadline.exceeded()
        if not stream:
            deadline.cancel()
        if deadline.expired:  # the headers (or a held body) ended early because their socket was shut down
            response.close()
            raise deadline.exceeded()
        if stream:
            response.deadline = deadline  # _limits cancels it when the body is read, or re-arms it per chunk
        return response

    def _send_once(self, method, url, params, headers, body, stream):
        started = time.monotonic()
        logger.debug('Request: %s %s params=%s', method, url, params)
        logger.debug('Request headers: %s', redacted_headers(headers))
        if body is not None:
            logger.debug('Request body: %d bytes', len(body))
        if hasattr(body, 'rewind'):
            body.rewind()  # an --input stream: every attempt (retry, 307/308 redirect) sends it from the start
        response = self._request_within_deadline(method, url, params, headers, body, stream)
        logger.debug('Response: %d %s from %s in %.0f ms', response.status_code, response.reason, response.url,
                     (time.monotonic() - started) * 1000)
        logger.debug('Response headers: %s', redacted_headers(response.headers))
        return response
