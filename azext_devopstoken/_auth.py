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
    try:
        (token_type, token, entry), token_subscription, token_tenant = Profile(cli_ctx=cli_ctx).get_raw_token(
            resource=AZURE_DEVOPS_RESOURCE, subscription=subscription, tenant=tenant)
    except RequestException as ex:
        from azext_devopstoken._errors import token_service_unreachable
        raise token_service_unreachable(ex) from None
    return AccessToken(token_type, token, entry['expires_on'], entry['expiresOn'], token_subscription, token_tenant)
