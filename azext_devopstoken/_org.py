"""Which Azure DevOps organization a call goes to, and which hosts belong to it.

Accepted forms of --org: a bare name (``contoso``), ``https://dev.azure.com/contoso``,
``https://contoso.visualstudio.com``, or any other https collection URL (Azure DevOps Server,
``https://server/tfs/DefaultCollection``). Defaults come from ``az config`` (``defaults.devops_organization``,
read by knack before the handler runs) and then from the azure-devops extension's own defaults file.
"""
import configparser
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from azure.cli.core.azclierror import InvalidArgumentValueError, RequiredArgumentMissingError

# Service hosts of an Azure DevOps Services organization (https://{svc}.dev.azure.com/{org}).
SERVICE_HOSTS = ('vssps', 'vsrm', 'feeds', 'pkgs', 'almsearch', 'analytics', 'vsaex', 'auditservice', 'vstmr',
                 'extmgmt')
# Resource areas that live on those hosts, for organizations whose service URLs must be looked up
# (`GET {org}/_apis/resourceAreas`, answered without credentials). Ids: the azure-devops SDKs'
# resource_area_identifier / RESOURCE_AREA_ID and the specs' x-ms-vss-resource-area-id. pkgs has one area per
# package type (NuGet here; npm, Maven, PyPI, UPack share the host); analytics has no resource area in any SDK or
# spec: its URL is derived by name on Services and is the collection URL on a Server.
SERVICE_RESOURCE_AREAS = {
    'vssps': 'bb1e7ec9-e901-4b68-999a-de7012b920f8',         # Graph
    'vsrm': 'efc2f575-36ef-48e9-b672-0c6fb4a48ac5',          # Release
    'feeds': '7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5',         # Packaging
    'pkgs': 'b3be7473-68ea-4a81-bfc7-9530baaa19ad',          # NuGet
    'almsearch': 'ea48a0a1-269c-42d8-b8ad-ddc8fcdcf578',     # Search
    'vsaex': '68ddce18-2501-45f1-a17b-7931a9922690',         # Member entitlement management
    'auditservice': '94ff054d-5ee1-413d-9341-3f4a7827de2e',  # Audit
    'vstmr': 'c83eaf52-edf3-4034-ae11-17d38f25404c',         # Test results
    'extmgmt': '6c2b0933-3600-42ae-bf8b-93d4f7e83594',       # Extension management
}
_ORG_NAME = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$')
_HOW_TO_SET = ('Give --org (a name like contoso, or a URL like https://dev.azure.com/contoso), or set a default: '
               '`az config set defaults.devops_organization=https://dev.azure.com/contoso`, the environment '
               'variable AZURE_DEFAULTS_DEVOPS_ORGANIZATION, or the azure-devops extension\'s '
               '`az devops configure --defaults organization=https://dev.azure.com/contoso`.')


@dataclass
class Organization:
    """An organization's base URL and the rules for which URLs belong to it."""
    url: str                                    # no trailing slash
    name: str = field(repr=False)
    kind: str = field(repr=False)               # 'dev.azure.com' | 'visualstudio.com' | 'server'
    origin: str = field(default='--org', repr=False, compare=False)  # where the URL came from, for messages
    host: str = field(init=False, repr=False)
    base_path: str = field(init=False, repr=False)

    def __post_init__(self):
        self.url = self.url.rstrip('/')
        parts = urlsplit(self.url)
        self.host = parts.netloc.lower()
        self.base_path = parts.path.rstrip('/')

    def service_url(self, service):
        """Base URL of a service host (vssps, vsrm, ...) when it can be derived from the URL alone, else None."""
        if service in (None, '', 'dev'):
            return self.url
        if self.kind == 'dev.azure.com':
            return 'https://%s.dev.azure.com/%s' % (service, self.name)
        if self.kind == 'visualstudio.com':
            return 'https://%s.%s.visualstudio.com' % (self.name, service)
        return None

    def owns(self, url, extra_bases=()):
        """True when ``url`` is https and under this organization's URL, one of its service hosts, or a base
        URL learned for it (``extra_bases``, e.g. from resource areas)."""
        parts = urlsplit(url)
        if parts.scheme.lower() != 'https' or not parts.netloc:
            return False
        bases = [self.url] + list(extra_bases)
        if self.kind != 'server':
            bases += [self.service_url(service) for service in SERVICE_HOSTS]
        return any(_is_under(parts, base) for base in bases)


def has_dot_segments(path):
    """True when a path has '.' or '..' segments, also percent-encoded: clients and servers resolve them, so a
    path that looks like it is under an organization could land elsewhere."""
    from urllib.parse import unquote
    return any(segment in ('.', '..') for segment in unquote(path).replace('\\', '/').split('/'))


def _is_under(parts, base):
    if has_dot_segments(parts.path):
        return False
    base_parts = urlsplit(base)
    if parts.netloc.lower() != base_parts.netloc.lower() or parts.scheme.lower() != base_parts.scheme.lower():
        return False
    prefix = base_parts.path.rstrip('/').lower()
    path = parts.path.lower()
    return not prefix or path == prefix or path.startswith(prefix + '/')


def parse_organization(value, option='--org'):
    """An :class:`Organization` from any accepted form of --org, or an error that names the option."""
    value = (value or '').strip()
    if _ORG_NAME.match(value):
        return Organization('https://dev.azure.com/' + value, value, 'dev.azure.com')
    parts = urlsplit(value)
    if parts.scheme.lower() == 'http':
        raise InvalidArgumentValueError(
            '%s %s uses http: Azure DevOps needs https, and the token must never travel in clear text.'
            % (option, value), recommendation='Use https://%s%s' % (parts.netloc, parts.path))
    if parts.scheme.lower() != 'https' or not parts.hostname:
        raise InvalidArgumentValueError(
            '%s %r is neither an organization name nor an https URL.' % (option, value),
            recommendation='Examples: --org contoso, --org https://dev.azure.com/contoso, '
                           '--org https://contoso.visualstudio.com, '
                           '--org https://tfs.example.com/tfs/DefaultCollection')
    if parts.query or parts.fragment:
        raise InvalidArgumentValueError('%s %s must not carry a query or fragment.' % (option, value))
    return _organization_from_url(parts, value, option)


def _organization_from_url(parts, value, option):
    host = parts.hostname.lower()
    segments = [s for s in parts.path.split('/') if s]
    if host == 'dev.azure.com':
        if len(segments) != 1:
            raise InvalidArgumentValueError(
                '%s %s is not an organization URL: expected https://dev.azure.com/{organization}.' % (option, value),
                recommendation='Put the project in --project and the rest of the URL in --path.' if segments else None)
        return Organization('https://dev.azure.com/' + segments[0], segments[0], 'dev.azure.com')
    if host.endswith('.visualstudio.com') and host.count('.') == 2:
        if segments and segments != ['DefaultCollection']:
            raise InvalidArgumentValueError(
                '%s %s is not an organization URL: expected https://{organization}.visualstudio.com.'
                % (option, value))
        return Organization('https://%s' % host, host.split('.')[0], 'visualstudio.com')
    url = 'https://%s%s' % (parts.netloc, parts.path.rstrip('/'))
    return Organization(url, segments[-1] if segments else host, 'server')


def devops_extension_defaults(cli_ctx):
    """[defaults] of the azure-devops extension (`az devops configure --defaults ...`), as a dict."""
    config_dir = os.environ.get('AZURE_DEVOPS_EXT_CONFIG_DIR') or os.path.join(cli_ctx.config.config_dir,
                                                                               'azuredevops')
    parser = configparser.ConfigParser()
    try:
        parser.read(os.path.join(config_dir, 'config'), encoding='utf-8')
    except (configparser.Error, OSError, UnicodeDecodeError):
        return {}
    return dict(parser['defaults']) if parser.has_section('defaults') else {}


def resolve_organization(cli_ctx, organization=None):
    """--org as given (knack already applied `defaults.devops_organization`), else the azure-devops
    extension's default, else one error naming every way to set it."""
    if organization:
        org = parse_organization(organization)
        if organization == cli_ctx.config.get('defaults', 'devops_organization', fallback=None):
            org.origin = '--org or the defaults.devops_organization setting'
        return org
    fallback = devops_extension_defaults(cli_ctx).get('organization')
    if fallback:
        org = parse_organization(fallback, option='The azure-devops default organization')
        org.origin = 'the azure-devops default organization'
        return org
    raise RequiredArgumentMissingError('No Azure DevOps organization given.', recommendation=_HOW_TO_SET)


def resolve_project(cli_ctx, project=None):
    return project or devops_extension_defaults(cli_ctx).get('project') or None
