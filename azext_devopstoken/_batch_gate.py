"""Throttling shared by every worker of a batch.

Azure DevOps first *delays* a heavy user's requests, then blocks them with 429 (Learn, "Rate and usage limits",
https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits: "API client experience"). Both a 429 and a
delayed 200 carry ``Retry-After``; the page asks clients to wait that long before sending more. Near the limit
responses carry ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining`` (TSTUs left before delays start; 0 once
requests are already delayed or blocked: header definitions in Microsoft's azure-devops-rust-api, src/headers.rs).

So the gate does two things for the whole batch, not per worker:

- pause: after any answer with ``Retry-After`` (429, or a 2xx in delay mode), no worker starts a request before
  that deadline. Retrying the refused request itself is the transport's job; the gate only holds the others.
- slow down: while the last answer said fewer than ``LOW_WATER`` of the TSTUs remain, at most one request is in
  flight and starts are at least ``spacing`` seconds apart, so the batch eases off before the service refuses.
"""
import threading
import time
from types import SimpleNamespace

LOW_WATER = 0.10       # fraction of X-RateLimit-Limit below which the batch slows down
SLOW_SPACING = 0.5     # seconds between request starts while slowed down
MAX_PAUSE = 300.0      # a Retry-After beyond this is capped (the transport's --max-retry-wait decides giving up)


def header(headers, name):
    """A header's value from any mapping, whatever the casing (requests' headers are case-insensitive, dicts
    are not)."""
    value = headers.get(name) if headers else None
    if value is None and headers:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def retry_after(status, headers):
    """Seconds to pause the batch for this answer, or None: Retry-After on a 429 or a 2xx (delay mode)."""
    from azext_devopstoken._http import retry_after_seconds
    if status is None or not (status == 429 or 200 <= status < 300):
        return None
    if header(headers, 'Retry-After') is None:
        return None
    seconds = retry_after_seconds(SimpleNamespace(headers={'Retry-After': header(headers, 'Retry-After')}))
    return None if seconds is None else min(seconds, MAX_PAUSE)


def near_limit(headers):
    """True when X-RateLimit-Remaining is below LOW_WATER of X-RateLimit-Limit; None when they are absent."""
    limit, remaining = _number(header(headers, 'X-RateLimit-Limit')), _number(header(headers, 'X-RateLimit-Remaining'))
    if limit is None or remaining is None or limit <= 0:
        return None
    return remaining < LOW_WATER * limit


class ThrottleGate:
    """Workers call ``enter()`` before sending and ``leave(status, headers)`` after. A transport that retries
    by itself reports every intermediate answer with ``observe(status, headers)``, so a 429 it is about to retry
    pauses the other workers at once. ``clock``/``sleep`` are injectable (tests); by default a pause is a wait
    that ``stop()`` cuts short, so an interrupted batch does not sit out a long Retry-After."""

    def __init__(self, parallel, clock=time.monotonic, sleep=None, spacing=SLOW_SPACING, max_pause=MAX_PAUSE):
        self.parallel = parallel
        self.spacing = spacing
        self.max_pause = max_pause   # `call --paginate` caps a pause at --max-retry-wait, as one at a time does
        self._stop_event = threading.Event()
        self._clock, self._sleep = clock, sleep or self._stop_event.wait
        self._cond = threading.Condition()
        self._in_flight = 0
        self._paused_until = 0.0
        self._last_start = None
        self._stopped = False
        self.slow = False
        self.pauses = 0          # how many answers paused the batch (for the summary)

    def enter(self):
        """Block until this worker may send; False when the gate was stopped meanwhile."""
        with self._cond:
            while not self._stopped:
                delay = self._delay()
                if delay > 0:
                    self._cond.release()
                    try:
                        self._sleep(delay)
                    finally:
                        self._cond.acquire()
                elif self._in_flight >= (1 if self.slow else self.parallel):
                    self._cond.wait(0.5)
                else:
                    self._in_flight += 1
                    self._last_start = self._clock()
                    return True
            return False

    def _delay(self):
        now = self._clock()
        delay = self._paused_until - now
        if self.slow and self._last_start is not None:
            delay = max(delay, self._last_start + self.spacing - now)
        return delay

    def observe(self, status, headers):
        """An answer arrived (final or about to be retried): it may pause or slow the batch. Returns the pause."""
        if status is None:
            return None
        pause = retry_after(status, headers)
        pause = min(pause, self.max_pause) if pause else pause
        low = near_limit(headers)
        with self._cond:
            if pause:
                self._paused_until = max(self._paused_until, self._clock() + pause)
                self.pauses += 1
            self.slow = bool(low)   # headers absent: the service is not close to its limit
            self._cond.notify_all()
        return pause

    def leave(self, status=None, headers=None):
        """The request is done; ``status`` None when no answer arrived (nothing to learn from)."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()
        return self.observe(status, headers)

    def stop(self):
        self._stop_event.set()
        with self._cond:
            self._stopped = True
            self._paused_until = 0.0
            self._cond.notify_all()
