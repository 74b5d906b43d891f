"""Turning low-level failures into one-line, actionable az errors that never carry a secret."""
from urllib.parse import urlsplit


def connection_failure_reason(ex):
    """A short human reason for a requests/urllib3 connection failure, without URLs' queries or bodies."""
    from requests import exceptions
    text = str(ex)
    if isinstance(ex, exceptions.SSLError) or 'CERTIFICATE_VERIFY_FAILED' in text:
        return 'the TLS certificate was not trusted (set REQUESTS_CA_BUNDLE if a proxy re-signs traffic)'
    if isinstance(ex, exceptions.Timeout):
        return 'the connection timed out'
    for marker, reason in (('Connection refused', 'the connection was refused'),
                           ('Name or service not known', 'the host name could not be resolved'),
                           ('nodename nor servname', 'the host name could not be resolved'),
                           ('Temporary failure in name resolution', 'the host name could not be resolved'),
                           ('Connection reset', 'the connection was reset'),
                           ('RemoteDisconnected', 'the server closed the connection without answering'),
                           ('timed out', 'the connection timed out')):
        if marker in text:
            return reason
    return type(ex).__name__


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
