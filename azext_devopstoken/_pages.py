"""Reading answers in bounded memory, and --paginate: following every continuation shape until the last page,
with stops for servers that never end."""
import sys

from azure.cli.core.azclierror import InvalidArgumentValueError
from knack.log import get_logger

logger = get_logger(__name__)

NO_PROGRESS_PAGES = 20           # --paginate stops after this many pages in a row that bring no items
MAX_CONTINUATION = 16 * 1024     # characters; a longer continuation token or next link is not followed


def fetch(client, method, url, params, headers, body, held):
    """(response, its body read in bounded memory) when ``held(response)``, else (response, None) with the body
    left to stream. An idempotent request whose held body is cut off is asked again, within --max-retries."""
    from requests import exceptions
    from azext_devopstoken._http import IDEMPOTENT
    from azext_devopstoken._limits import read_bounded
    attempts = 1 + (client.transport.policy.max_retries if method in IDEMPOTENT else 0)
    for attempt in range(1, attempts + 1):
        response = client.send(method, url, params, headers, body, stream=True)
        if not held(response):
            return response, None
        try:
            return response, read_bounded(response, passthrough=(exceptions.ChunkedEncodingError,
                                                                 exceptions.ConnectionError))
        except (exceptions.ChunkedEncodingError, exceptions.ConnectionError) as ex:
            if attempt == attempts:
                from azext_devopstoken._errors import devops_unreachable
                raise devops_unreachable(ex, attempt) from None
            logger.warning('The answer was cut off (%s); retrying (retry %d of %d).',
                           type(ex).__name__, attempt, attempts - 1)
    return None, None


def paginate(options, spec, client):  # pylint: disable=too-many-locals
    from azext_devopstoken._paging import CONTINUATION_PARAM, Merger, Next, SkipFollower, next_page
    from azext_devopstoken._throttle import pause_if_asked
    merger, seen, following = Merger(options.max_items), set(), Next()
    progress, skipping, skip_params, empty_run = _Progress(), SkipFollower(spec.params), None, 0
    while True:
        url, params = spec.url, skip_params or [(k, v) for k, v in spec.params if k != CONTINUATION_PARAM]
        if following.link:
            if not client.owns(following.link):
                raise InvalidArgumentValueError('Refusing to follow a nextLink off the organization: %s'
                                                % following.link)
            url, params = following.link, None
        elif following.token:
            params.append((CONTINUATION_PARAM, following.token))
        response, content = fetch(client, spec.method, url, params, spec.headers, spec.body, lambda _: True)
        document = _page_document(response, content)
        if skip_params and skipping.repeats(document):
            logger.warning('--paginate: the server answered $skip with a page seen before; stopping.')
            break
        before = len(merger.items)
        merger.add(document)
        progress.show(merger)
        following = next_page(response.headers, merger.last)
        _check_continuation(following, merger.pages)
        empty_run = 0 if len(merger.items) > before else empty_run + 1
        skipping.active = skipping.active and not following and spec.method == 'GET'
        skip_params = skipping.next_params(document, params) if params is not None else None
        if not (following or skip_params) or merger.full:
            break
        if _should_stop(options, merger, following, seen, empty_run):
            break
        if following:
            seen.add(following)
        pause_if_asked(response, client.transport.policy)
    progress.done()
    return merger.result()


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
