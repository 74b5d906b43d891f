"""--paginate --parallel N: pages fetched ahead of the walk, at most N requests in flight, used strictly in order.

The walk (:mod:`azext_devopstoken._pages`) stays the only judge of which page comes next; this module fetches the
requests it predicts before it asks for them. A page is used only when the walk asks for exactly the request it was
fetched with, so the result is the one-page-at-a-time result by construction. A prediction that turns out wrong
(the list continued another way than the pages so far) is discarded and nothing more is fetched ahead for the rest
of the command, so at most N-1 requests are ever sent for nothing: those past the end, or those of one wrong
prediction. Throttling is shared as in `devops-rest batch` (``_batch_gate.ThrottleGate``): a 429 or a delayed
answer's Retry-After holds every worker, and the transport's retries stay within the one --max-retry-wait budget.
"""
import collections
import threading

from knack.log import get_logger

logger = get_logger(__name__)


class _Stopped(Exception):
    """The prefetcher was closed before this request was sent."""


class Prefetcher:
    """``get(url, params, ahead)`` returns ``fetch(url, params)``'s (response, content), fetching the requests of
    ``ahead`` (those expected right after it) meanwhile; a context manager that stops the workers."""

    def __init__(self, client, parallel, fetch):
        from concurrent.futures import ThreadPoolExecutor
        from azext_devopstoken._adapter import mount_pool
        from azext_devopstoken._batch_gate import ThrottleGate
        self.parallel = parallel
        self.sent = 0             # requests sent (a discarded one may never have been)
        self.used = 0             # pages given to the walk
        self.missed = False       # a prediction was wrong: nothing more is fetched ahead
        self._client, self._fetch = client, fetch
        self._transport = client.transport
        self._queue = collections.deque()   # (request key, future): fetched ahead, oldest first, not yet used
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self._gate = ThrottleGate(parallel, max_pause=self._transport.policy.max_wait)
        self._executor = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix='devops-token-page')
        mount_pool(self._transport.session, parallel)
        # The transport retries 429/503 itself: the gate hears of them before it sleeps, to hold the others.
        self._saved_on_retry, self._transport.on_retry = self._transport.on_retry, self._observe
        # -i: each page's head is written when the walk uses the page, in page order (never a discarded page's).
        self._saved_on_response = getattr(client, 'on_response', None)
        if self._saved_on_response is not None:
            client.on_response = self._hold_head

    def get(self, url, params, ahead):
        """The page of (url, params); ``ahead`` are the requests the walk expects to ask for after it."""
        wanted = [(url, params)] + ([] if self.missed else list(ahead))
        self._keep_matching([_key(u, p) for u, p in wanted])
        for request_url, request_params in wanted[len(self._queue):self.parallel]:
            self._submit(request_url, request_params)
        _, future = self._queue.popleft()
        self.used += 1
        response, content, heads = future.result()
        for response_head in heads:
            self._saved_on_response(response_head)
        return response, content

    def _keep_matching(self, keys):
        """Keep the pages fetched ahead that the walk still expects, in its order; discard the others."""
        kept = 0
        while kept < len(self._queue) and kept < len(keys) and self._queue[kept][0] == keys[kept]:
            kept += 1
        if kept < len(self._queue):
            self.missed = True
            logger.debug('--parallel: the list did not continue as predicted; fetching one page at a time from '
                         'here.')
        while len(self._queue) > kept:
            self._discard(self._queue.pop()[1])

    def _submit(self, url, params):
        self._queue.append((_key(url, params), self._executor.submit(self._run, url, params)))

    def _run(self, url, params):
        """In a worker: one request through the gate; the -i heads it produced are held for the walk."""
        if not self._gate.enter():
            raise _Stopped()
        with self._count_lock:
            self.sent += 1
        self._local.heads = []
        response = None
        try:
            response, content = self._fetch(url, params)
            return response, content, self._local.heads
        finally:
            status, headers = (response.status_code, response.headers) if response is not None else (None, None)
            pause = self._gate.leave(status, headers)
            if pause and status < 300:
                from azext_devopstoken._throttle import warn_delayed
                warn_delayed(response, pause)

    def _observe(self, response):
        self._gate.observe(response.status_code, response.headers)
        if self._saved_on_retry is not None:
            self._saved_on_retry(response)

    def _hold_head(self, response):
        heads = getattr(self._local, 'heads', None)
        if heads is None:   # not a worker's request (none is sent from elsewhere while paging; kept safe)
            self._saved_on_response(response)
        else:
            heads.append(response)

    def _discard(self, future):
        if not future.cancel():
            future.add_done_callback(self._close_quietly)

    @staticmethod
    def _close_quietly(future):
        """A discarded page: its response is closed, its error ignored (the walk never asked for it)."""
        if future.exception() is None:
            future.result()[0].close()

    @property
    def wasted(self):
        """Requests sent for pages the walk did not use."""
        return self.sent - self.used

    def close(self):
        """Stop: nothing more is sent, pages fetched ahead are discarded, the workers are waited for."""
        self._gate.stop()
        while self._queue:
            self._discard(self._queue.pop()[1])
        self._executor.shutdown(wait=True)
        self._transport.on_retry = self._saved_on_retry
        if self._saved_on_response is not None:
            self._client.on_response = self._saved_on_response
        logger.debug('--paginate --parallel %d: %d requests, %d of them fetched ahead and not used.',
                     self.parallel, self.sent, self.wasted)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _key(url, params):
    return url, None if params is None else tuple(params)
