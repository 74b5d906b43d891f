"""Where the Microsoft Entra token for Azure DevOps may go: Azure DevOps Services hosts, and hosts the user
trusted by name.

Azure DevOps Services hosts (Learn, "Allowed IP addresses and domain URLs", azure-devops-docs
docs/organizations/security/allow-list-ip-url.md): ``dev.azure.com`` and its service hosts
(``{service}.dev.azure.com``, ``app.vssps.dev.azure.com``), ``{organization}.visualstudio.com`` and the legacy
service hosts ``{organization or scale unit}.{service}.visualstudio.com`` (vssps, vsrm, vstmr, pkgs, ... — resource
area lookups answer e.g. ``https://spsprodweu5.vssps.visualstudio.com/``), and ``app.vssps.visualstudio.com``.
Always https on port 443.

Any other host gets the token only when it is listed, by exact name, in
``az config set devops_token.trusted_hosts="host[:port] …"`` (comma- or space-separated; knack reads the environment
variable ``AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS`` first: ``CLIConfig.env_var_name`` is ``AZURE_{SECTION}_{OPTION}``
upper-cased). An entry without a port means 443.

Host names are compared after the normalisation requests applies before connecting (IDNA/UTS #46, as
``PreparedRequest._get_idna_encoded_host``), lower-cased, without a trailing dot. A URL with user information,
a percent-encoded or backslashed host, an IPv6 literal, control characters or whitespace never matches, nor does
one that urllib3 (which requests uses to connect) would read differently from the standard library.
"""
import re
from urllib.parse import urlsplit

SETTING_SECTION, SETTING_OPTION = 'devops_token', 'trusted_hosts'
SETTING = '%s.%s' % (SETTING_SECTION, SETTING_OPTION)
ENV_VAR = 'AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS'
DEFAULT_PORT = 443
PAT_ENV_VAR = 'AZURE_DEVOPS_EXT_PAT'  # the azure-devops extension's variable; a PAT for Server collections

# {service}.dev.azure.com (the organization's service hosts) and app.vssps.dev.azure.com.
DEV_AZURE_SERVICES = frozenset(('vssps', 'vsrm', 'feeds', 'pkgs', 'almsearch', 'analytics', 'vsaex',
                                'auditservice', 'vstmr', 'extmgmt', 'aex', 'vsblob'))
# {name}.{service}.visualstudio.com: name is the organization or a scale unit (spsprodweu5, rmsprodscussu1, app).
VISUALSTUDIO_SERVICES = frozenset(('vssps', 'vsrm', 'feeds', 'pkgs', 'almsearch', 'vsaex', 'vstmr', 'vsblob',
                                   'extmgmt', 'auditservice', 'analytics'))
_LABEL = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
_SEPARATORS = re.compile(r'[\s,]+')
_UNSAFE_IN_AUTHORITY = re.compile(r'[@%\\\[\]\s\x00-\x1f\x7f]')


def normalize_host(host):
    """The ASCII, lower-case form requests connects to, without a trailing dot; None when it is not a plain
    DNS name or IPv4 address (IPv6 literals, percent-encoding, empty labels, invalid IDNA)."""
    if not host or _UNSAFE_IN_AUTHORITY.search(host) or ':' in host:
        return None
    host = host[:-1] if host.endswith('.') else host
    try:
        if not host.isascii():
            import idna
            host = idna.encode(host, uts46=True).decode('ascii')
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return None
    host = host.lower()
    labels = host.split('.')
    if not all(_LABEL.match(label) for label in labels) or len(host) > 253:
        return None
    return host


def split_url(url):
    """(host, port) of an https URL as requests would connect to it, or None for anything else or ambiguous."""
    if not isinstance(url, str) or _has_control_characters(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError:
        return None
    if parts.scheme.lower() != 'https' or not parts.netloc or _UNSAFE_IN_AUTHORITY.search(parts.netloc):
        return None
    host = normalize_host(parts.hostname)
    if host is None or _urllib3_host(url) != (host, port):
        return None
    return host, port


def _has_control_characters(text):
    return any(ord(c) < 0x21 or ord(c) == 0x7f for c in text)


def _urllib3_host(url):
    from urllib3.util import parse_url
    try:
        parsed = parse_url(url)
    except Exception:  # pylint: disable=broad-except
        return None
    return normalize_host(parsed.host), parsed.port or DEFAULT_PORT


def is_services_host(url):
    """True when ``url`` is https on port 443 of an Azure DevOps Services host."""
    where = split_url(url)
    if where is None or where[1] != DEFAULT_PORT:
        return False
    return is_services_hostname(where[0])


def is_services_hostname(host):
    labels = host.split('.')
    if labels[-3:] == ['dev', 'azure', 'com']:
        prefix = labels[:-3]
        return (not prefix or (len(prefix) == 1 and prefix[0] in DEV_AZURE_SERVICES)
                or prefix == ['app', 'vssps'])
    if labels[-2:] == ['visualstudio', 'com']:
        prefix = labels[:-2]
        if any(label.startswith('xn--') for label in prefix):
            return False  # organization names are ASCII; punycode here is a look-alike, never an organization
        return len(prefix) == 1 or (len(prefix) == 2 and prefix[1] in VISUALSTUDIO_SERVICES)
    return False


def parse_trusted_hosts(value):
    """The set of (host, port) in a trusted_hosts value; a malformed entry is an error naming it."""
    trusted = set()
    for entry in _SEPARATORS.split(value or ''):
        if entry:
            trusted.add(_parse_entry(entry))
    return frozenset(trusted)


def _parse_entry(entry):
    from azure.cli.core.azclierror import InvalidArgumentValueError
    host, port = entry, DEFAULT_PORT
    if entry.count(':') == 1:
        host, port_text = entry.split(':')
        port = int(port_text) if port_text.isascii() and port_text.isdigit() else 0
    elif ':' in entry:
        host = None  # an IPv6 literal or a URL
    host = normalize_host(host)
    if host is None or not 0 < port < 65536:
        raise InvalidArgumentValueError(
            'The setting %s has an entry %r that is not host[:port].' % (SETTING, entry),
            recommendation='List each host by its exact name, separated by spaces or commas (no scheme, path, '
                           'wildcard or IPv6 literal), e.g. `az config set %s="ado.example.com '
                           'tfs.example.com:8443"`.' % SETTING)
    return host, port


def trusted_hosts(cli_ctx):
    """The hosts trusted by name: ``az config`` devops_token.trusted_hosts, or AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS."""
    return parse_trusted_hosts(cli_ctx.config.get(SETTING_SECTION, SETTING_OPTION, fallback=''))


def is_trusted(url, trusted=frozenset()):
    """True when the token may be sent to ``url``: an Azure DevOps Services host, or a (host, port) in
    ``trusted``."""
    if is_services_host(url):
        return True
    where = split_url(url)
    return where is not None and where in trusted


def may_receive_token(cli_ctx, url):
    """True when the token may go to ``url`` (the trusted hosts are read only for other hosts)."""
    return is_services_host(url) or is_trusted(url, trusted_hosts(cli_ctx))


def check_token_destination(cli_ctx, url, source='--org'):
    """Raise the az error for ``url`` unless the token may go there; ``source`` says where the URL came from
    (``--org``, ``a redirect``, ``a nextLink``, ``the resource area lookup``) for the message. Called before a
    token is fetched; the trusted hosts are read only when the URL is not an Azure DevOps Services host."""
    if not may_receive_token(cli_ctx, url):
        raise untrusted_destination_error(url, source)


def untrusted_destination_error(url, source='--org'):
    from azure.cli.core.azclierror import ValidationError
    where = split_url(url)
    if where is None:
        shown = _printable(url)
        return ValidationError(
            'Refusing to send the Azure DevOps token to %s (from %s): only https URLs with a plain host name '
            '(no user name, IPv6 literal or encoded characters) can receive it.' % (shown, source))
    host, port = where
    name = host if port == DEFAULT_PORT else '%s:%d' % (host, port)
    return ValidationError(
        'Refusing to send the Azure DevOps token to %s (from %s): it is not an Azure DevOps Services host '
        '(dev.azure.com, *.visualstudio.com) nor a host trusted in %s.' % (name, source, SETTING),
        recommendation='If %s is a host you trust with your Microsoft Entra token, run `az config set %s=%s` '
                       '(or set %s; several hosts: space- or comma-separated). An Azure DevOps Server takes a '
                       'personal access token instead: set %s.' % (name, SETTING, name, ENV_VAR, PAT_ENV_VAR))


def _printable(text, limit=200):
    shown = ''.join(c if c.isprintable() and not c.isspace() else '\\x%02x' % ord(c) if ord(c) < 256 else '?'
                    for c in str(text)[:limit])
    return shown + ('…' if len(str(text)) > limit else '')
