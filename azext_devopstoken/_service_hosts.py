"""Where a service of an organization lives (Graph on vssps, Release on vsrm, ...): asked of the organization's
resource areas without a token, as the SDKs do; the answer must be a host that may receive the token."""
from knack.log import get_logger

logger = get_logger(__name__)

RESOURCE_AREAS_VERSION = '7.1-preview.1'   # Location is preview-only (Python SDK v7_0: '7.0-preview.1')


def locate_service(cli_ctx, organization, service, transport):
    """A service host's URL from the organization's resource areas (asked without a token), as the SDKs do
    (Python ``connection.py``, Node ``WebApi.ts``): an empty or null list — what Azure DevOps Server answers — means
    the collection URL itself; a service without a resource area (analytics) lives there too on a Server. Any other
    answer must be a host that may receive the token."""
    from azure.cli.core.azclierror import ResourceNotFoundError
    from azext_devopstoken._org import SERVICE_RESOURCE_AREAS
    if service not in SERVICE_RESOURCE_AREAS:
        return organization.url
    from azext_devopstoken._errors import unreachable_as_az_error
    with unreachable_as_az_error():
        response = _resource_areas(organization, transport)
    areas = _resource_area_list(response)
    if areas is not None and not areas:
        logger.debug('%s has no resource areas (Azure DevOps Server): %s is the collection URL.',
                     organization.url, service)
        return organization.url
    wanted = SERVICE_RESOURCE_AREAS[service]
    location = next((a.get('locationUrl') for a in areas or () if isinstance(a, dict)
                     and str(a.get('id', '')).lower() == wanted), None)
    if not isinstance(location, str) or not location.lower().startswith('https://'):
        raise ResourceNotFoundError('%s does not say where its %s service is (resource area lookup answered %d).'
                                    % (organization.url, service, response.status_code))
    from azext_devopstoken._trust import is_trusted, may_receive_token, untrusted_destination_error
    if not (may_receive_token(cli_ctx, location) if cli_ctx is not None else is_trusted(location)):
        raise untrusted_destination_error(location, 'the resource area lookup of %s' % organization.url)
    logger.debug('The %s service of %s is at %s', service, organization.url, location)
    return location.rstrip('/')


def _resource_areas(organization, transport):
    """``GET {org}/_apis/resourceAreas``; an older server's "out of range" refusal is retried once with its
    latest version (the message names it)."""
    from azext_devopstoken._http import user_agent
    from azext_devopstoken._versions import refusal
    url = '%s/_apis/resourceAreas' % organization.url
    headers = {'Accept': 'application/json', 'User-Agent': user_agent()}
    response = transport.send('GET', url, [('api-version', RESOURCE_AREAS_VERSION)], headers, None)
    found = refusal(response)
    if found is not None and found.server_max:
        response.close()
        response = transport.send('GET', url, [('api-version', found.server_max + '-preview.1')], headers, None)
    return response


def _resource_area_list(response):
    """The list of areas (``[]`` for ``{"count": 0, "value": null}``), or None when the answer is no such list."""
    if not response.ok:
        return None
    try:
        document = response.json()
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    value = document.get('value')
    if value is None and document.get('count') == 0 or value == []:
        return []
    return value if isinstance(value, list) else None
