"""Building an Azure DevOps request from the command's arguments, validated before anything is sent."""
import json
import re
from dataclasses import dataclass
from typing import List, MutableMapping, Optional, Tuple
from urllib.parse import parse_qsl, quote

from azure.cli.core.azclierror import InvalidArgumentValueError, MutuallyExclusiveArgumentError

DEFAULT_API_VERSION = '7.1'
METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')
JSON_PATCH = 'application/json-patch+json'
_PLACEHOLDER = re.compile(r'\{([^{}/]*)\}')
_KNOWN_PLACEHOLDERS = ('organization', 'project', 'team')
_ABSOLUTE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://')
# The URL templates of the REST reference (learn.microsoft.com/rest/api/azure/devops, from
# MicrosoftDocs/vsts-rest-api-specs): https://dev.azure.com/{organization}/..., https://{svc}.dev.azure.com/
# {organization}/... and the older https://{organization}.visualstudio.com/....
_DOCS_URL = re.compile(r'https://(?:(?:(?P<service>[a-z]+)\.)?dev\.azure\.com/\{organization\}'
                       r'|\{organization\}\.visualstudio\.com)(?P<path>[/?].*)?\Z', re.I)
_HELP_FOR = {'organization': 'Give --org, or set a default with `az config set defaults.devops_organization=...`.',
             'project': 'Give --project, or set a default with `az config set defaults.devops_project=...`.',
             'team': 'Give --team (a team name or ID of the project).'}


@dataclass
class CallSpec:
    """Everything about one call except the token: what --dry-run shows and what the HTTP layer sends."""
    method: str
    url: str                           # scheme://host/path, no query
    params: List[Tuple[str, str]]      # in order, unencoded
    headers: MutableMapping[str, str]  # a requests CaseInsensitiveDict; no Authorization unless the user gave one
    body: Optional[bytes]

    @property
    def user_authorization(self):
        return self.headers.get('Authorization')


def parse_pairs(items, option):
    """``k=v`` items (``--query-parameters``, ``--headers``) as a list of pairs; an error names the option."""
    pairs = []
    for item in items or []:
        name, sep, value = item.partition('=')
        if not sep or not name.strip():
            raise InvalidArgumentValueError('%s expects name=value items; got %r.' % (option, item),
                                            recommendation='Example: %s name=value' % option)
        pairs.append((name.strip(), value))
    return pairs


@dataclass
class DocsUrl:
    """A URL template copied from the REST reference: the service host it names (None: the main one) and the
    path below the organization."""
    service: Optional[str]
    path: str


def docs_url(path):
    """The :class:`DocsUrl` when --path is a REST reference URL with a literal {organization}, else None."""
    from azext_devopstoken._org import SERVICE_HOSTS
    match = _DOCS_URL.match(path)
    if not match:
        return None
    service = (match.group('service') or '').lower() or None
    if service and service not in SERVICE_HOSTS:
        raise InvalidArgumentValueError('--path names the %s.dev.azure.com host, which is not an Azure DevOps '
                                        'service host (%s).' % (service, ', '.join(SERVICE_HOSTS)))
    return DocsUrl(service, match.group('path') or '/')


def expand_placeholders(path, values):
    """Replace {organization}, {project} and {team} in --path; an unknown or empty placeholder is an error."""
    def replace(match):
        name = match.group(1)
        if name not in _KNOWN_PLACEHOLDERS:
            raise InvalidArgumentValueError(
                '--path has an unknown placeholder {%s}; known placeholders are {organization}, {project} and '
                '{team}.' % name)
        if not values.get(name):
            raise InvalidArgumentValueError('--path uses {%s} but no %s is set.' % (name, name),
                                            recommendation=_HELP_FOR[name])
        return quote(values[name], safe='')
    return _PLACEHOLDER.sub(replace, path)


def is_absolute(path):
    """A full URL (scheme://…) or a network-path reference (//host/…), as opposed to a path below the org."""
    return bool(_ABSOLUTE.match(path)) or path.startswith(('//', '\\\\'))


def build_url(base_url, path):
    """``base_url`` + relative ``path`` (leading slash or not); returns (url without query, query pairs).
    '.' and '..' segments are refused: they would lead out of the organization."""
    from azext_devopstoken._org import has_dot_segments
    path, _, query = path.partition('?')
    path = path.split('#')[0]
    if has_dot_segments(path):
        raise InvalidArgumentValueError('--path %r has "." or ".." segments; give the path without them.' % path)
    relative = path.lstrip('/')
    # Percent-encode what must be, keep what is already encoded and the characters Azure DevOps routes use ($, @).
    relative = quote(relative, safe="/%$@:;,=+!*'()~")
    return base_url.rstrip('/') + '/' + relative, parse_qsl(query, keep_blank_values=True)


def takes_api_version(url):
    """False for what is no versioned REST route: Analytics OData (its version is a path segment, Learn
    "Query guidelines for Analytics with OData") and git's smart HTTP."""
    from urllib.parse import urlsplit
    path = urlsplit(url).path.lower()
    return '/_odata/' not in path + '/' and '/_git/' not in path


def has_api_version(params, headers):
    """True when the path, --query-parameters or the Accept header already carry an api-version."""
    from requests.structures import CaseInsensitiveDict
    accept = CaseInsensitiveDict(headers).get('Accept') or ''
    return any(k.lower() == 'api-version' for k, _ in params) or 'api-version' in accept.lower()


def add_api_version(params, headers, api_version):
    """api-version once: --api-version, or the one already in the path/--query-parameters/Accept header, or 7.1."""
    given = [v for k, v in params if k.lower() == 'api-version']
    from requests.structures import CaseInsensitiveDict
    accept = CaseInsensitiveDict(headers).get('Accept') or ''
    in_accept = 'api-version' in accept.lower()
    if api_version and (given or in_accept):
        raise MutuallyExclusiveArgumentError(
            '--api-version %s conflicts with the api-version already in %s.'
            % (api_version, '--path/--query-parameters' if given else 'the Accept header'),
            recommendation='Give the api-version once.')
    if given or in_accept:
        return params
    return params + [('api-version', api_version or DEFAULT_API_VERSION)]


def encode_body(body, content_type):
    """(bytes, content type) for --body: JSON is validated; a JSON-Patch array gets its own media type."""
    if body is None:
        return None, content_type
    if body.startswith('@') and len(body) > 1:
        # az replaces @file and @- with the content before we run; what is left could not be read.
        from azure.cli.core.azclierror import FileOperationError
        raise FileOperationError('--body %s: the file %s does not exist or cannot be read.' % (body, body[1:]),
                                 recommendation='Give JSON text, @file with a readable file, or @- for stdin.')
    if content_type and not is_json_type(content_type):
        return body.encode('utf-8'), content_type
    try:
        document = json.loads(body)
    except json.JSONDecodeError as ex:
        raise InvalidArgumentValueError(
            '--body is not valid JSON: %s at line %d, column %d.' % (ex.msg, ex.lineno, ex.colno),
            recommendation='Pass JSON text, @file or @- (stdin); for other content give --content-type.')
    except RecursionError:
        raise InvalidArgumentValueError('--body is JSON nested too deeply to check.',
                                        recommendation='Give --content-type to send it unchecked.') from None
    if not content_type:
        content_type = JSON_PATCH if _is_json_patch(document) else 'application/json'
    return body.encode('utf-8'), content_type


def is_json_type(content_type):
    media = content_type.split(';')[0].strip().lower()
    return media == 'application/json' or media.endswith('+json')


def _is_json_patch(document):
    return (isinstance(document, list) and bool(document)
            and all(isinstance(op, dict) and 'op' in op and 'path' in op for op in document))
