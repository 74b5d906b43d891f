"""Sending a call whose api-version may be refused: the network half of :mod:`azext_devopstoken._versions`.

With no --api-version the refused request is retried (at most twice) with the version the host's location data
or the refusal's text gives, and that version is kept for every later page of the call. With --api-version the
request is sent as given, and a refusal becomes one error that names the version to use.
"""
import threading

from knack.log import get_logger

from azext_devopstoken import _versions

logger = get_logger(__name__)
API_VERSION = 'api-version'


def current_version(params):
    for name, value in params or ():
        if name.lower() == API_VERSION:
            return value
    return None


def with_version(params, version):
    return [(name, version if name.lower() == API_VERSION else value) for name, value in params]


class LocationTables:
    """The location tables of a batch, one per host base, shared by its workers: a table is read from disk or
    fetched at most once per batch, however many lines are refused at the same time."""

    def __init__(self, cache):
        self.cache = cache
        self._lock = threading.Lock()
        self._entries = {}    # base (lower case) -> the disk cache entry, read once
        self._fetched = {}    # base (lower case) -> the table fetched during the batch

    def entry(self, base):
        """What is known about ``base`` without a request: the table fetched in this batch, else the disk's."""
        key = base.lower().rstrip('/')
        with self._lock:
            if key in self._fetched:
                return {'locations': self._fetched[key]}
            if key not in self._entries:
                self._entries[key] = self.cache.get(base)
            return self._entries[key]

    def fetch(self, base, load):
        """The table of ``base``: ``load()`` called by the first worker that needs it, the others wait for it."""
        key = base.lower().rstrip('/')
        with self._lock:
            if key not in self._fetched:
                self._fetched[key] = load()
            return self._fetched[key]


class VersionedSender:
    """``send`` like :meth:`DevOpsClient.send`, with the api-version negotiated when devops-token chose it.
    ``send_any`` is the same without the status check (a batch reports every status on its line); ``raw`` sends
    one request (default ``client.send_raw``), ``tables`` shares location tables between senders."""

    def __init__(self, client, cache, base, auto, raw=None, tables=None):  # pylint: disable=too-many-arguments
        self.client = client
        self.cache = cache
        self.base = base
        self.auto = auto          # True: devops-token chose the api-version; False: the user did (or none is sent)
        self.version = None       # the version that worked after a refusal, for every later request of the call
        self.extra_requests = 0   # what negotiation cost, for --debug
        self._fetched = None      # the location table read during this call
        self._raw = raw or client.send_raw
        self._tables = tables

    @property
    def transport(self):
        return self.client.transport

    def owns(self, url):
        return self.client.owns(url)

    @property
    def on_response(self):
        """The client's hook for every final response (-i); --paginate --parallel holds it to keep page order."""
        return self.client.on_response

    @on_response.setter
    def on_response(self, hook):
        self.client.on_response = hook

    def send(self, method, url, params, headers, body, stream=False):
        response = self.send_any(method, url, params, headers, body, stream)
        self.client.check(response)
        return response

    def send_any(self, method, url, params, headers, body, stream=False):
        if self.auto and self.version and current_version(params):
            params = with_version(params, self.version)
        response = self._raw(method, url, params, headers, body, stream)
        found = _versions.refusal(response) if current_version(params) else None
        if found is not None and not self.auto:
            response.close()
            raise self._explicit_refusal(found, current_version(params), url)
        tried = {current_version(params)}
        while found is not None and len(tried) <= _versions.MAX_RETRIES:
            retry = self._retry_version(found, url)
            if not retry or retry in tried:
                break
            logger.warning('Azure DevOps refused api-version %s (%s); sending api-version %s instead.',
                           current_version(params), found.type_key, retry)
            response.close()
            params, self.version = with_version(params, retry), retry
            tried.add(retry)
            self.extra_requests += 1
            response = self._raw(method, url, params, headers, body, stream)
            found = _versions.refusal(response)
        return response

    def _retry_version(self, found, url):
        if found.server_max:
            self.cache.put(self.base, serverMax=found.server_max)
        sub_path = _versions.sub_path_of(url, self.base)
        location = _versions.match(self._locations(), sub_path)
        chosen = _versions.choose(location) if location else None
        return chosen or found.suggestion

    def _locations(self):
        """The host's API resource locations: fetched once per call (a cached table led to this refusal, or
        there was none), then cached for the next calls."""
        if self._fetched is None:
            self._fetched = self._tables.fetch(self.base, self._fetch_table) if self._tables else self._fetch_table()
        return self._fetched

    def _fetch_table(self):
        url = self.base.rstrip('/') + '/_apis'
        self.extra_requests += 1
        response = self._raw('OPTIONS', url, None, {'Accept': 'application/json'}, None)
        try:
            document = response.json() if response.status_code == 200 else None
        except ValueError:
            document = None
        finally:
            response.close()
        if not _versions.usable_table(document):
            logger.debug('No usable API resource locations at %s (%d).', url, response.status_code)
            return []
        table = [loc for loc in document['value'] if isinstance(loc, dict)]
        self.cache.put(self.base, locations=table)
        return table

    def _explicit_refusal(self, found, sent, url):
        from azure.cli.core.azclierror import BadRequestError
        suggestion = found.suggestion
        if not suggestion:
            entry = self.cache.get(self.base)
            location = _versions.match(entry.get('locations') or [], _versions.sub_path_of(url, self.base))
            suggestion = _versions.choose(location, sent.split('-')[0]) if location else None
        use = ('Use --api-version %s, or leave --api-version out to let devops-token choose.' % suggestion
               if suggestion else 'Leave --api-version out to let devops-token choose.')
        return BadRequestError('Azure DevOps refused --api-version %s: %s %s' % (sent, found.message, use))
