"""Reading answers in bounded memory, and --paginate: following every continuation shape until the last page,
with stops for servers that never end."""
import sys

from azure.cli.core.azclierror import InvalidArgumentValueError
from knack.log import get_logger

logger = get_logger(__name__)

NO_PROGRESS_PAGES = 20           # --paginate stops after this many pages in a row that bring no items
MAX_CONTINUATION = 16 * 1024     # characters; a longer continuation token or next link is not followed
NO_LIMIT = float('inf')


def fetch(client, method, url, params, headers, body, held, send=None):  # pylint: disable=too-many-arguments
    """(response, its body read in bounded memory) when ``held(response)``, else (response, None) with the body
    left to stream. An idempotent request whose held body is cut off is asked again, within --max-retries.
    ``send`` sends one request (default ``client.send``: an error status is an az error)."""
    from requests import exceptions
    from azext_devopstoken._http import IDEMPOTENT, describe_failure
    from azext_devopstoken._limits import read_bounded
    attempts = 1 + (client.transport.policy.max_retries if method in IDEMPOTENT else 0)
    for attempt in range(1, attempts + 1):
        response = (send or client.send)(method, url, params, headers, body, stream=True)
        if not held(response):
            return response, None
        try:
            return response, read_bounded(response, passthrough=(exceptions.ChunkedEncodingError,
                                                                 exceptions.ConnectionError))
        except (exceptions.ChunkedEncodingError, exceptions.ConnectionError) as ex:
            if attempt == attempts:
                from azext_devopstoken._errors import devops_unreachable
                raise devops_unreachable(ex, attempt) from None
            logger.warning('%s; retrying (retry %d of %d).', describe_failure(ex, 'The answer was cut off'),
                           attempt, attempts - 1)
    return None, None


def paginate(options, spec, client):
    """Every page of the call, merged. With --parallel N the pages the walk can tell in advance ($top/$skip lists,
    counting continuation tokens) are fetched up to N at a time (_prefetch); the walk decides in either case."""
    from azext_devopstoken._throttle import pause_if_asked
    walk = _Walk(options, spec, client)

    def fetch_page(url, params):
        return fetch(client, spec.method, url, params, spec.headers, spec.body, lambda _: True)

    if (options.parallel or 1) > 1:
        from azext_devopstoken._prefetch import Prefetcher
        with Prefetcher(client, options.parallel, fetch_page) as ahead:
            _walk_pages(walk, lambda url, params: ahead.get(url, params, walk.ahead(options.parallel - 1)),
                        lambda response: None)
    else:
        _walk_pages(walk, fetch_page, lambda response: pause_if_asked(response, client.transport.policy))
    walk.progress.done()
    return walk.merger.result()


def _walk_pages(walk, get, between):
    """``get(url, params) -> (response, content)`` for each page the walk asks for, ``between(response)`` before
    the next one."""
    while True:
        url, params = walk.next_request()
        response, content = get(url, params)
        if not walk.take(response, content, params):
            return
        between(response)


class _Walk:
    """Paging one page after the other: which request comes next and what each page means (merging, and the stops
    for servers that never end). Pages are given to it strictly in order, however they were fetched."""

    def __init__(self, options, spec, client):
        from azext_devopstoken._paging import CountingToken, Merger, Next, SkipFollower
        self.options, self.spec, self.client = options, spec, client
        self.merger, self.seen, self.following = Merger(options.max_items), set(), Next()
        self.progress, self.skipping, self.skip_params, self.empty_run = _Progress(), SkipFollower(spec.params), None, 0
        self.counting = CountingToken(spec.params)

    def _base_params(self):
        from azext_devopstoken._paging import CONTINUATION_PARAM
        return [(k, v) for k, v in self.spec.params if k != CONTINUATION_PARAM]

    def next_request(self):
        """(url, params) of the next page."""
        from azext_devopstoken._paging import CONTINUATION_PARAM
        if self.following.link:
            if not self.client.owns(self.following.link):
                raise InvalidArgumentValueError('Refusing to follow a nextLink off the organization: %s'
                                                % self.following.link)
            return self.following.link, None
        params = self.skip_params or self._base_params()
        if self.following.token:
            params.append((CONTINUATION_PARAM, self.following.token))
        return self.spec.url, params

    def take(self, response, content, params):
        """Merge the page fetched with ``params``; False when no page is to follow."""
        from azext_devopstoken._paging import next_page, page_items
        document = _page_document(response, content)
        if self.skip_params and self.skipping.repeats(document):
            logger.warning('--paginate: the server answered $skip with a page seen before; stopping.')
            return False
        before = len(self.merger.items)
        self.merger.add(document)
        self.progress.show(self.merger)
        self.following = next_page(response.headers, self.merger.last)
        _check_continuation(self.following, self.merger.pages)
        self.empty_run = 0 if len(self.merger.items) > before else self.empty_run + 1
        self.skipping.active = self.skipping.active and not self.following and self.spec.method == 'GET'
        self.skip_params = self.skipping.next_params(document, params) if params is not None else None
        self.counting.observe(None if self.following.link else self.following.token, len(page_items(document)))
        if not (self.following or self.skip_params) or self.merger.full:
            return False
        if _should_stop(self.options, self.merger, self.following, self.seen, self.empty_run):
            return False
        if self.following:
            self.seen.add(self.following)
        return True

    def ahead(self, count):
        """Up to ``count`` requests after :meth:`next_request`'s, as the walk will ask for them if every page until
        then is full and ends as the pages so far did; none when that cannot be told (a next link, an opaque token,
        a method other than GET) or the stops would not let them be used."""
        from azext_devopstoken._paging import CONTINUATION_PARAM
        step = self.skipping.top if self.skip_params else self.counting.step
        if self.spec.method != 'GET' or self.following.link or not step:
            return []
        count = min(count, self._pages_left(step) - 1)
        if count <= 0:
            return []
        if self.skip_params:
            return [(self.spec.url, params) for params in self.skipping.ahead(self.skip_params, count)]
        if self.following.token:
            return [(self.spec.url, self._base_params() + [(CONTINUATION_PARAM, token)])
                    for token in self.counting.ahead(count)]
        return []

    def _pages_left(self, step):
        """How many more pages --max-pages and --max-items allow (pages of ``step`` items)."""
        left = []
        if self.options.max_pages is not None:
            left.append(self.options.max_pages - self.merger.pages)
        if self.options.max_items is not None:
            left.append(-(-(self.options.max_items - len(self.merger.items)) // step))
        return min(left) if left else NO_LIMIT


def _should_stop(options, merger, following, seen, empty_run):
    """True (with a warning) when paging must end although the server says more remain."""
    if following and following in seen:
        logger.warning('--paginate: the server repeated a continuation token; stopping to avoid a loop.')
    elif empty_run >= NO_PROGRESS_PAGES:
        logger.warning('--paginate: %d pages in a row brought no items; stopping (%d items in %d pages so far).',
                       empty_run, len(merger.items), merger.pages)
    elif options.max_pages is not None and merger.pages >= options.max_pages:
        logger.warning('--paginate: stopped after --max-pages %d; Azure DevOps has more results.', options.max_pages)
    else:
        return False
    return True


def _check_continuation(following, page):
    """A continuation token or next link must be text (a server can put any JSON there)."""
    from azure.cli.core.azclierror import AzureResponseError
    for kind, value in (('continuation token', following.token), ('next link', following.link)):
        if value is not None and not isinstance(value, str):
            raise AzureResponseError('--paginate: page %d has a %s that is a JSON %s, not text; stopping.'
                                     % (page, kind, type(value).__name__))
        if value is not None and len(value) > MAX_CONTINUATION:
            raise AzureResponseError('--paginate: page %d has a %s of %d characters; stopping.'
                                     % (page, kind, len(value)))


def _page_document(response, content):
    import json
    from azure.cli.core.azclierror import AzureResponseError
    from azext_devopstoken._errors import one_line
    try:
        return json.loads(content) if content else None
    except RecursionError:
        raise too_deep() from None
    except ValueError:
        raise AzureResponseError('--paginate needs JSON pages; Azure DevOps answered %s.'
                                 % one_line(response.headers.get('Content-Type') or 'a body without a content type'))


def too_deep():
    from azure.cli.core.azclierror import AzureResponseError
    return AzureResponseError('Azure DevOps answered JSON nested too deeply to read (over about %d levels).'
                              % sys.getrecursionlimit(),
                              recommendation='Save the body as it is with --output-file FILE.')


class _Progress:
    """Pages and items so far, on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def show(self, merger):
        if self.enabled:
            sys.stderr.write('\rFetched %d items in %d pages...' % (len(merger.items), merger.pages))
            sys.stderr.flush()
            self.shown = True

    def done(self):
        if self.shown:
            sys.stderr.write('\n')
            sys.stderr.flush()
