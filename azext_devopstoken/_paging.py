"""Azure DevOps continuation paging: where the next page is, and merging pages into one document.

Three forms exist: the ``x-ms-continuationtoken`` response header (most lists; empty or absent means
done) sent back as the ``continuationToken`` query parameter; a body ``continuationToken`` with
``hasMore`` (audit log); and a body ``nextLink``/``continuationToken`` with ``isLastBatch`` (work item
tracking reporting). A merged result keeps the first page's shape, so a ``--query`` written for one
page works on all of them.
"""
from dataclasses import dataclass
from typing import Optional

CONTINUATION_HEADER = 'x-ms-continuationtoken'
CONTINUATION_PARAM = 'continuationToken'
_LIST_KEYS = ('value', 'decoratedAuditLogEntries', 'values')


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
    return Next()


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
        if self._key == 'value' or 'count' in merged:
            merged['count'] = len(self.items)
        for bookkeeping in ('hasMore', 'isLastBatch', 'continuationToken', 'nextLink'):
            if bookkeeping in merged:
                merged[bookkeeping] = self._last.get(bookkeeping)
        if 'hasMore' in merged:
            merged['hasMore'] = False
        if 'isLastBatch' in merged:
            merged['isLastBatch'] = True
        return merged
