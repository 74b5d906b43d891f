"""Access tokens for Azure DevOps from the login that `az login` holds, fetched in-process."""
from collections import namedtuple

AZURE_DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798'


class AccessToken(namedtuple('AccessToken', 'token_type token expires_on expires_on_local subscription tenant')):
    """A token plus where it came from. Its repr never shows the token, so it cannot leak into logs."""
    __slots__ = ()

    def __repr__(self):
        return 'AccessToken(tenant=%r, subscription=%r, expires_on=%r, token=<redacted>)' % (
            self.tenant, self.subscription, self.expires_on)

    __str__ = __repr__

    def as_get_access_token_output(self):
        """The dict `az account get-access-token` prints, in its key order."""
        result = {
            'tokenType': self.token_type,
            'accessToken': self.token,
            'expires_on': self.expires_on,
            'expiresOn': self.expires_on_local,
            'tenant': self.tenant,
        }
        if self.subscription:
            result['subscription'] = self.subscription
        return result


def get_access_token(cli_ctx, tenant=None, subscription=None):
    """Ask az's Profile for an Azure DevOps token; the same credential path as `az account get-access-token`.

    ``subscription`` defaults to the global --subscription. az's own errors (not logged in, Entra
    refusals) pass through unchanged; network failures, which az leaves as tracebacks, become
    one-line AzureConnectionErrors.
    """
    from azure.cli.core._profile import Profile
    from azure.cli.core.azclierror import MutuallyExclusiveArgumentError
    from requests.exceptions import RequestException

    subscription = subscription or cli_ctx.data.get('subscription_id')
    if subscription and tenant:
        raise MutuallyExclusiveArgumentError(
            'usage error: --subscription and --tenant/-t cannot be used together.',
            recommendation='Give --tenant to get the token from that tenant, or --subscription to use the '
                           'tenant of that subscription, not both.')
    from azure.cli.core.azclierror import AuthenticationError
    profile = Profile(cli_ctx=cli_ctx)
    try:
        (token_type, token, entry), token_subscription, token_tenant = profile.get_raw_token(
            resource=AZURE_DEVOPS_RESOURCE, subscription=subscription, tenant=tenant)
    except RequestException as ex:
        from azext_devopstoken._errors import token_service_unreachable
        raise token_service_unreachable(ex) from None
    except AuthenticationError as ex:
        return _renewed_federated_token(cli_ctx, profile, ex, subscription, tenant)
    return AccessToken(token_type, token, entry['expires_on'], entry['expiresOn'], token_subscription, token_tenant)


def _renewed_federated_token(cli_ctx, profile, refusal, subscription, tenant):
    """A federated service principal whose assertion expired (AADSTS700024) gets its token with a fresh assertion
    from the CI system (_federated); any other refusal is re-raised as az made it."""
    import datetime
    from azext_devopstoken import _federated
    account = profile.get_subscription(subscription)
    if not (_federated.is_expired_assertion(refusal) and _federated.renewable_account(account)):
        raise refusal
    token, expires_on = _federated.renew(cli_ctx, account, AZURE_DEVOPS_RESOURCE, tenant)
    expires_on_local = datetime.datetime.fromtimestamp(expires_on).strftime('%Y-%m-%d %H:%M:%S.%f')  # az's format
    return AccessToken('Bearer', token, expires_on, expires_on_local, None if tenant else account['id'],
                       tenant or account['tenantId'])


def get_organization_token(cli_ctx, organization, transport, tenant=None):
    """A token the organization will accept: from --tenant or --subscription when given, otherwise from the
    organization's own tenant (discovered without credentials), which is often not the subscription's.
    Refused before anything is asked or fetched when the organization's host may not receive the token."""
    from azext_devopstoken import _tenant
    from azext_devopstoken._trust import check_token_destination
    check_token_destination(cli_ctx, organization.url, organization.origin)
    if tenant or cli_ctx.data.get('subscription_id'):
        return get_access_token(cli_ctx, tenant=tenant)
    account = _tenant.current_account(cli_ctx)  # not logged in: az's own message, before any request
    from azext_devopstoken._errors import unreachable_as_az_error
    with unreachable_as_az_error():
        org_tenant = _tenant.discover_tenant(cli_ctx, organization, transport)
    if not org_tenant or org_tenant == _tenant.MSA_TENANT or org_tenant.lower() == account['tenantId'].lower():
        return get_access_token(cli_ctx)
    kind = _tenant.account_kind(account)
    if kind in ('managedIdentity', 'cloudShell'):
        from azure.cli.core.azclierror import AuthenticationError
        raise AuthenticationError(
            '%s belongs to tenant %s, but this %s is in tenant %s and can only get tokens there.'
            % (organization.url, org_tenant, 'managed identity' if kind == 'managedIdentity' else 'Cloud Shell login',
               account['tenantId']),
            recommendation='Use an identity of tenant %s that has been added to the organization.' % org_tenant)
    from knack.util import CLIError
    try:
        return get_access_token(cli_ctx, tenant=org_tenant)
    except CLIError as ex:
        raise _tenant_not_held(organization, org_tenant, account, kind, ex) from None


def token_in_tenant(cli_ctx, organization, tenant):
    """A token from ``tenant`` (named by the organization's 401), or the error saying how to sign in there."""
    from knack.util import CLIError
    from azext_devopstoken import _tenant
    try:
        return get_access_token(cli_ctx, tenant=tenant)
    except CLIError as ex:
        account = _tenant.current_account(cli_ctx)
        raise _tenant_not_held(organization, tenant, account, _tenant.account_kind(account), ex) from None


def _tenant_not_held(organization, org_tenant, account, kind, cause):
    from azure.cli.core.azclierror import AuthenticationError
    first_line = str(getattr(cause, 'error_msg', None) or cause).strip().splitlines()[0]
    if kind == 'servicePrincipal':
        fix = ('az login --service-principal --username %s --tenant %s (with its secret or certificate)'
               % (account['user']['name'], org_tenant))
    else:
        fix = 'az login --tenant %s' % org_tenant
    return AuthenticationError(
        '%s belongs to tenant %s, and your login could not get a token there (%s).'
        % (organization.url, org_tenant, first_line),
        recommendation='Sign in to that tenant: %s' % fix)


def planned_tenant(cli_ctx, organization, tenant=None):
    """(tenant, source) a token would come from, without any network request (for --dry-run)."""
    from azext_devopstoken import _tenant
    if tenant:
        return tenant, '--tenant'
    subscription = cli_ctx.data.get('subscription_id')
    if subscription:
        return _tenant.current_account(cli_ctx, subscription)['tenantId'], '--subscription'
    found, org_tenant = _tenant.cached_tenant(cli_ctx, organization.url) if organization else (True, None)
    if found and org_tenant and org_tenant != _tenant.MSA_TENANT:
        return org_tenant, 'the organization (cached discovery)'
    from knack.util import CLIError
    try:
        account = _tenant.current_account(cli_ctx)
    except CLIError:
        return None, 'not logged in'
    if not found:
        return account['tenantId'], 'the current account, unless the organization says otherwise when asked'
    return account['tenantId'], 'the current account'
