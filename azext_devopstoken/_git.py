"""A git credential helper: `git clone/fetch/push` to Azure Repos with the az login, no PAT.

git runs ``<helper> get|store|erase`` and talks key=value lines on stdin/stdout
(https://git-scm.com/docs/git-credential). ``get`` answers only for Azure DevOps over https —
dev.azure.com, *.visualstudio.com and the configured default organization's host when it is trusted by name
(``devops_token.trusted_hosts``) — with a fresh Microsoft
Entra token as the password (Azure DevOps accepts it in Basic authentication) and
``password_expiry_utc``, so git never reuses an expired one. Anything else gets no answer, and git moves
on to its next helper. ``store`` and ``erase`` do nothing: nothing is ever stored.
"""
import re
import sys

from knack.log import get_logger

logger = get_logger(__name__)

DEFAULT_USERNAME = 'devops-token'
_VISUALSTUDIO_HOST = re.compile(r'^([a-z0-9][a-z0-9-]*)\.visualstudio\.com$', re.I)


def read_request(stream):
    """git's key=value lines up to a blank line or end of input; repeated keys keep their last value."""
    fields = {}
    for line in stream:
        line = line.rstrip('\r\n')
        if not line:
            break
        key, sep, value = line.partition('=')
        if sep:
            fields[key.rstrip('[]')] = value
    return fields


def organization_for(cli_ctx, fields):
    """The Azure DevOps organization a credential request is for, (True, Organization|None) for an Azure
    DevOps host (None: organization unknown, e.g. dev.azure.com without a path), (False, None) otherwise."""
    from azext_devopstoken._org import devops_extension_defaults, parse_organization
    if fields.get('protocol', '').lower() != 'https':  # never hand a token to a clear-text remote
        return False, None
    host = fields.get('host', '').lower()
    segments = [s for s in fields.get('path', '').split('/') if s]
    if host == 'dev.azure.com':
        name = segments[0] if segments else fields.get('username')
        return True, _organization_or_none(name)
    match = _VISUALSTUDIO_HOST.match(host)
    if match:
        return True, parse_organization('https://%s.visualstudio.com' % match.group(1))
    for default in (cli_ctx.config.get('defaults', 'devops_organization', None),
                    devops_extension_defaults(cli_ctx).get('organization')):
        org = _organization_or_none(default)
        if org is not None and org.host == host:
            from azext_devopstoken._trust import may_receive_token
            if not may_receive_token(cli_ctx, org.url):
                logger.debug('git-credential: %s is not a host trusted with the token (%s); no answer.', host,
                             'devops_token.trusted_hosts')
                return False, None
            org.origin = 'the git remote'
            return True, org
    return False, None


def _organization_or_none(value):
    from azure.cli.core.azclierror import AzCLIError
    from azext_devopstoken._org import parse_organization
    if not value:
        return None
    try:
        return parse_organization(value)
    except AzCLIError:
        return None


def answer(cli_ctx, fields, stdout=None):
    """Write the credential for a `get` request, or nothing when it is not ours to answer."""
    from azext_devopstoken._auth import get_access_token, get_organization_token
    from azext_devopstoken._http import Transport
    ours, org = organization_for(cli_ctx, fields)
    if not ours:
        logger.debug('git-credential: %s://%s is not an Azure DevOps host; no answer.', fields.get('protocol'),
                     fields.get('host'))
        return
    if org is None:
        token = get_access_token(cli_ctx)
    else:
        with Transport() as transport:
            token = get_organization_token(cli_ctx, org, transport)
    out = stdout or sys.stdout
    out.write('username=%s\npassword=%s\npassword_expiry_utc=%d\n' % (
        fields.get('username') or DEFAULT_USERNAME, token.token, int(token.expires_on)))
    out.flush()
