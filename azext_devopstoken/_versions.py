"""Which api-version to send when the user gave none: 7.1, unless the route or the server needs another.

About a quarter of Azure DevOps operations are preview-only at 7.1 (graph, audit, dashboards, connectionData, ...)
and answer a plain ``7.1`` with 400 ``VssInvalidPreviewVersionException``; Azure DevOps Server 2022 answers 7.1
with 400 "... out of range for this server. The latest REST API version this server supports is 7.0.".

Design (error first, location data as the authority, cached on disk): send 7.1; on one of those refusals read the
host's API resource locations (``OPTIONS {base}/_apis``, as the azure-devops Python SDK does in
``client.py _get_resource_locations``, cached 12 hours like its ``options.json``), pick the version with the Node
SDK's rule (``VsoClient.ts autoNegotiateApiVersion``), and retry once; when the location data is unavailable, use
the version the refusal's text names. Released routes cost no extra request; a refused route costs two (the refusal
and the OPTIONS) the first time, none for the next 12 hours because the cached choice is made before sending.
An explicit ``--api-version`` is sent as given; a refusal then names the version to use.
"""
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Optional

from knack.log import get_logger

logger = get_logger(__name__)

DEFAULT_API_VERSION = '7.1'
CACHE_SECONDS = 12 * 3600          # the Python SDK's DEFAULT_MAX_AGE for its OPTIONS cache
REFUSALS = ('VssInvalidPreviewVersionException', 'VssVersionOutOfRangeException', 'VssVersionNotSupportedException')
MAX_RETRIES = 2
# Message formats: Microsoft's WebApiResources (PreviewVersionNotSuppliedMessage, ApiVersionOutOfRange) and the
# older phrasing "... is out of the valid range for this server. The latest REST API version supported by this
# server is 5.1".
_PREVIEW_TEXT = re.compile(r'"(\d+\.\d+)" of the resource is under preview', re.I)
_SERVER_MAX_TEXT = re.compile(r'latest REST API version (?:this server supports|supported by this server) is '
                              r'(\d+\.\d+)', re.I)
_VERSION = re.compile(r'^(\d+)\.(\d+)(-preview(?:\.(\d+))?)?$', re.I)


def parse_version(text):
    """(major, minor) of a version string, or None."""
    found = _VERSION.match((text or '').strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def _text(number):
    return '%d.%d' % number


# -- refusals -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refusal:
    """An api-version refusal: its typeKey, the server's message, and what the message says to send."""
    type_key: str
    message: str
    suggestion: Optional[str]      # '7.1-preview' or the server's latest version, when the text names one
    server_max: Optional[str]      # the server's latest version ("out of range for this server")


def refusal(response):
    """The :class:`Refusal` in a 400 answer, or None for anything else."""
    if response.status_code != 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get('typeKey') not in REFUSALS:
        return None
    message = ' '.join(str(body.get('message') or '').split())
    preview = _PREVIEW_TEXT.search(message)
    server_max = _SERVER_MAX_TEXT.search(message)
    suggestion = preview.group(1) + '-preview' if preview else (server_max.group(1) if server_max else None)
    return Refusal(body['typeKey'], message, suggestion, server_max.group(1) if server_max else None)


# -- location data --------------------------------------------------------------------------------------------
def _segment_pattern(segment, location):
    if segment == '{area}':
        return '/' + re.escape(location.get('area') or '')
    if segment == '{resource}':
        return '/' + re.escape(location.get('resourceName') or '')
    if segment.startswith('{*'):
        return '(?:/.*)?'
    if re.fullmatch(r'\{[^{}]+\}', segment):   # every route parameter is optional (Python SDK client.py)
        return '(?:/(?!_apis(?:/|$))[^/]+)?'
    literal = re.split(r'\{[^{}]+\}', segment)
    return '/' + '[^/]+'.join(re.escape(part) for part in literal)


def _template_regex(location):
    segments = [s for s in str(location.get('routeTemplate') or '').strip('/').split('/') if s]
    return re.compile(''.join(_segment_pattern(s, location) for s in segments) + r'/?\Z', re.I)


def _literal_count(location):
    segments = str(location.get('routeTemplate') or '').split('/')
    return sum(1 for s in segments if s and not s.startswith('{') or s in ('{area}', '{resource}'))


def match(locations, sub_path):
    """The location whose routeTemplate fits ``sub_path`` (the path below the host's base URL), the most
    specific one when several do; None when none or a tie."""
    fits = []
    for location in locations:
        try:
            if _template_regex(location).match(sub_path or ''):
                fits.append(location)
        except re.error:
            continue
    if not fits:
        return None
    fits.sort(key=_literal_count, reverse=True)
    if len(fits) > 1 and _literal_count(fits[0]) == _literal_count(fits[1]) and \
            choose(fits[0]) != choose(fits[1]):
        return None
    return fits[0]


def choose(location, requested=DEFAULT_API_VERSION):
    """The version to send for ``requested`` on ``location`` (Node SDK ``autoNegotiateApiVersion``), None when the
    location's data does not parse or the route is newer than ``requested``."""
    wanted = parse_version(requested)
    released, newest, oldest = (parse_version(str(location.get(k) or '')) for k in
                                ('releasedVersion', 'maxVersion', 'minVersion'))
    if wanted is None or newest is None:
        return None
    if oldest is not None and wanted < oldest:
        return None
    if released is not None and wanted <= released:
        return requested
    if wanted <= newest:
        return requested + '-preview'
    if released == newest:
        return _text(newest)
    return '%s-preview.%s' % (_text(newest), location.get('resourceVersion') or 1)


def usable_table(document):
    """True for an OPTIONS answer worth caching: ``{value: [location with id, routeTemplate, maxVersion]}``."""
    value = document.get('value') if isinstance(document, dict) else None
    return isinstance(value, list) and any(
        isinstance(loc, dict) and loc.get('id') and loc.get('routeTemplate') and loc.get('maxVersion')
        for loc in value)


class LocationCache:
    """Per host base URL: its API resource locations and the server's latest version, on disk for 12 hours."""

    def __init__(self, config_dir, now=time.time):
        self.directory = os.path.join(config_dir, 'devops-token', 'locations')
        self._now = now

    def _path(self, base):
        return os.path.join(self.directory, hashlib.sha256(base.lower().rstrip('/').encode()).hexdigest() + '.json')

    def get(self, base):
        try:
            with open(self._path(base), encoding='utf-8') as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            return {}
        if not isinstance(entry, dict) or entry.get('expires', 0) <= self._now():
            return {}
        return entry

    def put(self, base, **values):
        entry = dict(self.get(base), **values)
        entry['expires'] = int(self._now()) + CACHE_SECONDS
        path = self._path(base)
        try:
            os.makedirs(self.directory, exist_ok=True)
            temporary = '%s.%d.%d.tmp' % (path, os.getpid(), threading.get_ident())  # batch workers write too
            with open(temporary, 'w', encoding='utf-8') as handle:
                json.dump(entry, handle)
            os.replace(temporary, path)
        except OSError as ex:
            logger.debug('Could not write the api-version cache %s: %s', path, ex)

    def forget(self, base):
        try:
            os.remove(self._path(base))
        except OSError:
            pass


def cached_choice(entry, sub_path, requested=DEFAULT_API_VERSION):
    """(version, source) from a cache entry without any request, or (requested, 'default')."""
    location = match(entry.get('locations') or [], sub_path) if entry.get('locations') else None
    chosen = choose(location, requested) if location else None
    if chosen:
        return chosen, 'location data (cached)'
    server_max = parse_version(entry.get('serverMax'))
    if server_max and parse_version(requested) > server_max:
        return _text(server_max), 'server maximum (cached)'
    return requested, 'default'


def sub_path_of(url, base):
    """The path of ``url`` below ``base`` ('' when it is not below it)."""
    from urllib.parse import urlsplit
    path, prefix = urlsplit(url).path, urlsplit(base).path.rstrip('/')
    return path[len(prefix):] if path.lower().startswith(prefix.lower()) else ''
