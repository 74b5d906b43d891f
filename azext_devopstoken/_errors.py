"""Turning low-level failures into one-line, actionable az errors that never carry a secret."""
import contextlib
from urllib.parse import urlsplit

from azext_devopstoken._failures import connection_failure_reason
from azext_devopstoken._text import printable

MESSAGE_LIMIT = 1000  # characters of server text quoted in an error; a 5 MB message is cut here


def host_of(ex):
    """scheme://host[:port] of the request that failed, when requests recorded it."""
    request = getattr(ex, 'request', None)
    url = getattr(request, 'url', None)
    if not url:
        return None
    parts = urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.netloc)


def token_service_unreachable(ex):
    from azure.cli.core.azclierror import AzureConnectionError
    where = host_of(ex)
    return AzureConnectionError(
        'Cannot reach the Microsoft Entra token service%s: %s.' % (' at ' + where if where else '',
                                                                   connection_failure_reason(ex)),
        recommendation='Check the network, proxy (HTTPS_PROXY) and firewall settings, then try again. '
                       'For a managed identity, check that the identity endpoint is reachable from this machine.')


def server_message(response):
    """The `message` of an Azure DevOps error body ({"$id","message","typeKey",...}), or None; printable, on one
    line, at most MESSAGE_LIMIT characters, whatever the server sent (an object, terminal escapes, megabytes)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    if isinstance(body, dict):
        error = body.get('error')
        message = body.get('message') or (error.get('message') if isinstance(error, dict) else None)
        if message:
            return one_line(message)
    return None


def one_line(text):
    """Server text fit for one line of an error: a non-string as compact JSON, whitespace collapsed, control and
    format characters removed, cut at MESSAGE_LIMIT."""
    import json
    if not isinstance(text, str):
        try:
            text = json.dumps(text, separators=(',', ':'))
        except (TypeError, ValueError, RecursionError):
            text = type(text).__name__
    return printable(' '.join(text[:MESSAGE_LIMIT * 4].split()), MESSAGE_LIMIT)


@contextlib.contextmanager
def unreachable_as_az_error():
    """Requests sent straight through the Transport (tenant probe, resource areas) end in one az error when the
    retries give up, as those sent through the DevOpsClient do."""
    from azext_devopstoken._http import GaveUp
    try:
        yield
    except GaveUp as ex:
        raise devops_unreachable(ex.cause, ex.attempts) from None


def is_sign_in_page(response):
    """Azure DevOps answers an unauthenticated browser-style request with 203 and an HTML sign-in page."""
    content_type = response.headers.get('Content-Type', '').lower()
    return response.status_code == 203 or (response.ok and content_type.startswith('text/html')
                                           and '/_apis/' in response.url.lower())


_NOT_ACCEPTED_CAUSES = ('the identity has not been added to the organization (Organization settings > Users), '
                        'the token comes from another tenant than the organization\'s, '
                        'or the session expired (run `az login` again)')


def sign_in_page_error(organization_url):
    from azure.cli.core.azclierror import AuthenticationError
    return AuthenticationError(
        'Azure DevOps did not accept the token for %s: it answered with a sign-in page. Likely causes: %s.'
        % (organization_url, _NOT_ACCEPTED_CAUSES),
        recommendation='Run `az devops-token whoami --org %s` to see who the token says you are.' % organization_url)


def unauthorized_error(response, token, organization_url):
    """``token``: the AccessToken that was sent, or None when the user gave their own Authorization header."""
    from azure.cli.core.azclierror import AuthenticationError
    from azext_devopstoken._tenant import MSA_TENANT, resource_tenant
    org_tenant, our_tenant = resource_tenant(response), token.tenant if token else None
    message = server_message(response)
    if org_tenant == MSA_TENANT:
        return AuthenticationError(
            'Azure DevOps refused the token (401): %s is backed by Microsoft accounts, not a Microsoft Entra '
            'tenant, so Entra tokens from az cannot be used with it.' % organization_url,
            recommendation='Connect the organization to a Microsoft Entra tenant, or use a personal access token '
                           'with --headers "Authorization=Basic <base64 of :PAT>".')
    if org_tenant and our_tenant and org_tenant.lower() != our_tenant.lower():
        return AuthenticationError(
            'Azure DevOps refused the token (401): it was issued by tenant %s, but %s belongs to tenant %s.'
            % (our_tenant, organization_url, org_tenant),
            recommendation='Get the token from the organization\'s tenant: add --tenant %s (run '
                           '`az login --tenant %s` first if your login does not include it).'
                           % (org_tenant, org_tenant))
    detail = (': ' + message) if message else '.'
    return AuthenticationError(
        'Azure DevOps refused the token (401)%s' % detail,
        recommendation='Likely causes: %s.' % _NOT_ACCEPTED_CAUSES if not token else
        'Check that this identity has been added to the organization %s with access to the resource.'
        % organization_url)


def response_error(response):
    """The az error for a failed (>= 400, not 401) Azure DevOps answer, with the server's own message."""
    from azure.cli.core import azclierror
    status = response.status_code
    message = server_message(response) or _short_text(response)
    reason = one_line(response.reason or '')
    text = 'Azure DevOps answered %d %s%s' % (status, reason, (': ' + message) if message else '.')
    if status == 403:
        return azclierror.ForbiddenError(text)
    if status == 404:
        return azclierror.ResourceNotFoundError(text)
    if status == 429:
        return azclierror.AzureResponseError(text, recommendation='Azure DevOps is throttling this identity; '
                                             'wait, then retry, or raise --max-retries / --max-retry-wait.')
    if status >= 500:
        return azclierror.AzureInternalError(text)
    return azclierror.BadRequestError(text)


def _short_text(response):
    """A short plain-text body, never HTML."""
    content_type = response.headers.get('Content-Type', '').lower()
    if 'html' in content_type:
        return None
    try:
        text = one_line(response.text[:4000])
    except Exception:  # pylint: disable=broad-except
        return None
    return (text if len(text) <= 300 else text[:300] + '…') or None


def devops_unreachable(ex, attempts):
    from azure.cli.core.azclierror import AzureConnectionError
    from requests import exceptions
    from azext_devopstoken._deadline import DeadlineExceeded, deadline_error
    if isinstance(ex, DeadlineExceeded):
        return deadline_error(ex.seconds, attempts)
    where = host_of(ex)
    tries = ' (%d attempts)' % attempts if attempts > 1 else ''
    hint = ('Raise --timeout if the server is slow, or check the network.' if isinstance(ex, exceptions.Timeout)
            else 'Check the organization URL, the network, proxy (HTTPS_PROXY) and firewall settings.')
    place = ' at ' + where if where else ''
    message = 'Cannot reach Azure DevOps%s%s: %s.' % (place, tries, connection_failure_reason(ex))
    return AzureConnectionError(message, recommendation=hint)
