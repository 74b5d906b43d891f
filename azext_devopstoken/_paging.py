"""Azure DevOps paging: where the next page is, and merging pages into one document.

Forms: the ``x-ms-continuationtoken`` response header (most lists; empty or absent means done) sent back as the
``continuationToken`` query parameter; a body ``continuationToken`` with ``hasMore`` (audit log); a body
``nextLink``/``continuationToken`` with ``isLastBatch`` (work item tracking reporting); a body
``continuationToken`` next to ``items``/``members`` with no ``hasMore``, null on the last page (user
entitlements, vsts-rest-api-specs ``PagedUserEntitlementsList``); an absolute ``@odata.nextLink`` (Analytics OData,
Learn "Query guidelines for Analytics with OData"); and no continuation at all, only ``$top``/``$skip`` (pull
requests and some 25 other lists in the 7.1 specs): :class:`SkipFollower`. A merged result keeps the first page's
shape, so a ``--query`` written for one page works on all of them.
"""
import json
from dataclasses import dataclass
from typing import Optional

CONTINUATION_HEADER = 'x-ms-continuationtoken'
CONTINUATION_PARAM = 'continuationToken'
_LIST_KEYS = ('value', 'decoratedAuditLogEntries', 'values', 'items', 'members')
ODATA_NEXT_LINK = '@odata.nextLink'
SKIP_PARAM, TOP_PARAM = '$skip', '$top'
FULL_PAGE_GUESS = 100   # without $top, a list of a multiple of this many items may be a full page


@dataclass(frozen=True)
class Next:
    """Where the next page is: a continuation token for the same URL, or a full next link."""
    token: Optional[str] = None
    link: Optional[str] = None

    def __bool__(self):
        return bool(self.token or self.link)


def items_key(document):
    """The key holding a page's items, '' for a top-level array, None if the page is not a list page."""
    if isinstance(document, list):
        return ''
    if isinstance(document, dict):
        for key in _LIST_KEYS:
            if isinstance(document.get(key), list):
                return key
    return None


def page_items(document):
    """The items of a list page (a top-level array, or the list under its items key); [] for any other document."""
    key = items_key(document)
    if key is None:
        return []
    return document if key == '' else document[key]


def next_page(headers, document):
    """The continuation of a page, from its headers (any casing: requests' are case-insensitive) or body."""
    token = (headers.get(CONTINUATION_HEADER) or '').strip()
    if token:
        return Next(token=token)
    if not isinstance(document, dict):
        return Next()
    if 'hasMore' in document:
        return Next(token=document.get('continuationToken')) if document.get('hasMore') else Next()
    if 'isLastBatch' in document:
        if document.get('isLastBatch'):
            return Next()
        return Next(link=document.get('nextLink'), token=None if document.get('nextLink')
                    else document.get('continuationToken'))
    if isinstance(document.get(ODATA_NEXT_LINK), str) and document[ODATA_NEXT_LINK]:
        return Next(link=document[ODATA_NEXT_LINK])
    if items_key(document) in ('items', 'members') and isinstance(document.get('continuationToken'), str):
        return Next(token=document['continuationToken'].strip() or None)
    return Next()


def _int_param(params, name):
    for key, value in params or ():
        if key.lower() == name.lower():
            try:
                return int(value)
            except ValueError:
                return None
    return None


def looks_full(document, params):
    """True when a page without a continuation may still not be the last: as many items as ``$top`` asked for,
    or, without ``$top``, a round number of them (services page by 100s)."""
    key = items_key(document)
    if not key:
        return False
    count = len(document[key])
    top = _int_param(params, TOP_PARAM)
    return count > 0 and (count == top if top else count % FULL_PAGE_GUESS == 0)


class SkipFollower:
    """Paging by ``$skip`` for lists with no continuation at all: the next page is asked while pages come back
    full (``$top`` items, or the first page's size when it looks like a server page size); a short, empty or
    repeated page ends it (a server that ignores ``$skip`` repeats its first page)."""

    def __init__(self, params):
        self.skip0 = _int_param(params, SKIP_PARAM) or 0
        self.top = _int_param(params, TOP_PARAM)
        self.fetched = 0
        self.first_items = set()
        self.active = True        # False once any page carried a continuation: that form rules

    def repeats(self, document):
        """True when a page begins with the item a previous page began with (``$skip`` ignored)."""
        key = items_key(document)
        items = (document[key] if key else document) if key in ('value', '') else None
        return bool(items) and json.dumps(items[0], sort_keys=True) in self.first_items

    def next_params(self, document, params):
        """The query of the next page, or None when this page was the last."""
        key = items_key(document)
        if not self.active or key not in ('value', ''):
            return None
        items = document[key] if key else document
        size = self.top or (len(items) if not self.fetched and len(items) >= FULL_PAGE_GUESS else None)
        if not items or not size or len(items) < size:
            return None
        self.first_items.add(json.dumps(items[0], sort_keys=True))
        self.top = size
        self.fetched += len(items)
        return _skip_query(params, size, self.skip0 + self.fetched)

    def ahead(self, params, count):
        """The queries of the ``count`` pages after ``params`` (a query :meth:`next_params` gave), as it will give
        them if every page until then is full."""
        skip = _int_param(params, SKIP_PARAM)
        return [_skip_query(params, self.top, skip + k * self.top) for k in range(1, count + 1)]


def _skip_query(params, top, skip):
    kept = [(k, v) for k, v in params if k.lower() not in (SKIP_PARAM, TOP_PARAM)]
    return kept + [(TOP_PARAM, str(top)), (SKIP_PARAM, str(skip))]


class CountingToken:
    """Continuation tokens that count the items fetched so far, as the projects list's do: its
    ``continuationToken`` is an integer, "Pointer that shows how many projects already been fetched"
    (vsts-rest-api-specs core/7.1/core.json, Projects_List), so after pages of 100 the tokens are 100, 200, ...
    While every token seen is that count (``$skip`` plus the items so far, in plain decimal), the tokens of the
    next pages can be told before they arrive (--parallel fetches them ahead; the walk still checks each one).
    Any other token (opaque, descending release ids, an empty page) ends it for the rest of the command."""

    def __init__(self, params):
        self.counted = _int_param(params, SKIP_PARAM) or 0
        self.step = 0
        self.holds = True

    def observe(self, token, items):
        """A page of ``items`` items came with ``token`` (None: no continuation)."""
        if not self.holds or token is None:
            return
        self.holds = items > 0 and token == str(self.counted + items)
        self.counted, self.step = self.counted + items, items

    def ahead(self, count):
        """The tokens of the ``count`` pages after the one the last token asks for, if each brings ``step`` items."""
        if not self.holds or not self.step:
            return []
        return [str(self.counted + k * self.step) for k in range(1, count + 1)]


class Merger:
    """Accumulates pages; ``result()`` is the first page's document with every page's items."""

    def __init__(self, max_items=None):
        self.max_items = max_items
        self.items = []
        self.pages = 0
        self._first = None
        self._last = None
        self._key = None

    def add(self, document):
        key = items_key(document)
        if self.pages == 0:
            self._first, self._key = document, key
        elif key != self._key:
            from azure.cli.core.azclierror import AzureResponseError
            raise AzureResponseError('--paginate: page %d has a different shape from the first page; '
                                     'this API cannot be merged.' % (self.pages + 1))
        self.pages += 1
        self._last = document
        if key is None:
            return
        self.items.extend(document if key == '' else document[key])
        if self.full:
            del self.items[self.max_items:]

    @property
    def last(self):
        """The most recent page's document."""
        return self._last

    @property
    def full(self):
        return self.max_items is not None and len(self.items) >= self.max_items

    def result(self):
        if self._key is None:
            return self._last
        if self._key == '':
            return self.items
        merged = dict(self._first)
        merged[self._key] = self.items
        if 'count' in merged or (self._key == 'value' and ODATA_NEXT_LINK not in merged):
            merged['count'] = len(self.items)
        for bookkeeping in ('hasMore', 'isLastBatch', 'continuationToken', 'nextLink'):
            if bookkeeping in merged:
                merged[bookkeeping] = self._last.get(bookkeeping)
        merged.pop(ODATA_NEXT_LINK, None)
        if 'hasMore' in merged:
            merged['hasMore'] = False
        if 'isLastBatch' in merged:
            merged['isLastBatch'] = True
        return merged
