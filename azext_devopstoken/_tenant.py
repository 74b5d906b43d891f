"""The Microsoft Entra tenant an Azure DevOps organization belongs to, found without credentials.

As Git Credential Manager does it (``AzureDevOpsRestApi.cs GetAuthorityAsync``): one unauthenticated HEAD of the
organization URL, its status ignored; the tenant comes from ``WWW-Authenticate: Bearer authorization_uri=…/{tenant}``
(any login host), else from the first well-formed, non-zero GUID among the ``X-VSS-ResourceTenant`` values (the
header may come more than once; requests joins the lines with ", "); a single all-zero value means a
Microsoft-account organization. Only such a definitive answer is cached (a day, per organization, in
``$AZURE_CONFIG_DIR/devops-token/tenants.json``): a 500, 405, 502, a proxy's page or a time-out is asked again
next time. A call's own 401 naming another tenant wins over the cache (GCM: the failing request's challenge wins).
"""
import json
import os
import re
import time

from knack.log import get_logger

logger = get_logger(__name__)

CACHE_SECONDS = 24 * 3600
MSA_TENANT = '00000000-0000-0000-0000-000000000000'
_SYSTEM_ASSIGNED = 'systemAssignedIdentity'
_USER_ASSIGNED = 'userAssignedIdentity'


def _cache_file(cli_ctx):
    return os.path.join(cli_ctx.config.config_dir, 'devops-token', 'tenants.json')


def _read_cache(cli_ctx):
    """The cache's well-formed entries ({url: {'tenant': str|None, 'expires': number}}); anything else in the
    file is ignored (and dropped at the next write)."""
    try:
        with open(_cache_file(cli_ctx), encoding='utf-8') as handle:
            cache = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return {}
    return {url: entry for url, entry in cache.items() if _well_formed(entry)} if isinstance(cache, dict) else {}


def _well_formed(entry):
    return (isinstance(entry, dict) and isinstance(entry.get('tenant'), (str, type(None)))
            and isinstance(entry.get('expires'), (int, float)) and not isinstance(entry.get('expires'), bool))


def cached_tenant(cli_ctx, organization_url):
    """(found, tenant): found is False when there is no fresh entry."""
    entry = _read_cache(cli_ctx).get(organization_url.lower())
    if isinstance(entry, dict) and entry.get('expires', 0) > time.time():
        return True, entry.get('tenant')
    return False, None


def store_tenant(cli_ctx, organization_url, tenant):
    """Remember the answer; a cache that cannot be written only costs a probe next time."""
    cache = {k: v for k, v in _read_cache(cli_ctx).items()
             if isinstance(v, dict) and v.get('expires', 0) > time.time()}
    cache[organization_url.lower()] = {'tenant': tenant, 'expires': int(time.time()) + CACHE_SECONDS}
    path = _cache_file(cli_ctx)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = '%s.%d.tmp' % (path, os.getpid())
        with open(temporary, 'w', encoding='utf-8') as handle:
            json.dump(cache, handle, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError as ex:
        logger.debug('Could not write the tenant cache %s: %s', path, ex)


def _guid(text):
    import uuid
    try:
        return str(uuid.UUID((text or '').strip().strip('"')))
    except ValueError:
        return None


def _bearer_tenant(challenges):
    """The tenant GUID at the end of a Bearer challenge's authorization_uri, or None."""
    for found in re.finditer(r'Bearer\s+[^,]*?authorization_uri="?([^",\s]+)', challenges or '', re.I):
        tenant = _guid(found.group(1).rstrip('/').rsplit('/', 1)[-1])
        if tenant:
            return tenant
    return None


def resource_tenant(response):
    """The organization's tenant from any answer carrying it (status ignored), MSA_TENANT for a Microsoft-account
    organization, or None when the answer does not say."""
    tenant = _bearer_tenant(response.headers.get('WWW-Authenticate'))
    if tenant and tenant != MSA_TENANT:
        return tenant
    values = [v for v in (response.headers.get('X-VSS-ResourceTenant') or '').split(',') if v.strip()]
    guids = [g for g in (_guid(v) for v in values) if g]
    for guid in guids:
        if guid != MSA_TENANT:
            return guid
    return MSA_TENANT if len(values) == 1 and guids == [MSA_TENANT] else None


def discover_tenant(cli_ctx, organization, transport, use_cache=True):
    """The organization's tenant id (MSA_TENANT for a Microsoft-account organization), or None when the
    organization does not say (Azure DevOps Server, a probe that failed or timed out, no Entra challenge). An
    organization that cannot be reached at all (refused, unresolvable, untrusted TLS) raises _http.GaveUp (callers
    wrap it in _errors.unreachable_as_az_error): the call itself could not succeed either."""
    if use_cache:
        found, tenant = cached_tenant(cli_ctx, organization.url)
        if found and tenant:
            logger.debug('Tenant of %s (cached): %s', organization.url, tenant)
            return tenant
    from azext_devopstoken._http import GaveUp, user_agent
    try:
        response = transport.send('HEAD', organization.url, None,
                                  {'X-TFS-FedAuthRedirect': 'Suppress', 'User-Agent': user_agent()}, None)
    except GaveUp as ex:
        from azext_devopstoken._failures import never_connected, not_transient
        if never_connected(ex.cause) or not_transient(ex.cause):
            raise
        logger.debug('Tenant of %s: the probe failed (%s); using the account\'s tenant for this call.',
                     organization.url, type(ex.cause).__name__)
        return None
    response.close()
    tenant = resource_tenant(response)
    logger.debug('Tenant of %s (asked, %d): %s', organization.url, response.status_code, tenant)
    if tenant:
        store_tenant(cli_ctx, organization.url, tenant)
    return tenant


def current_account(cli_ctx, subscription=None):
    """The az account in use (raises az's own "Please run 'az login'" when there is none)."""
    from azure.cli.core._profile import Profile
    return Profile(cli_ctx=cli_ctx).get_subscription(subscription)


def account_kind(account):
    """user | servicePrincipal | managedIdentity | cloudShell."""
    user = account.get('user') or {}
    if user.get('cloudShellID'):
        return 'cloudShell'
    if user.get('name') in (_SYSTEM_ASSIGNED, _USER_ASSIGNED) or user.get('assignedIdentityInfo'):
        return 'managedIdentity'
    return user.get('type') or 'user'
