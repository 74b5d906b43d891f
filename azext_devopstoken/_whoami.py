"""`az devops-token whoami`: who the token says you are, the organization's tenant, and who Azure DevOps says
you are — or why it refuses you. The token is decoded locally and never printed."""
import datetime

CONNECTION_DATA_VERSION = '7.1-preview.1'  # connectionData is preview-only at 7.1


def describe_token(token):
    """The identity claims of an access token (decoded without verification: it is our own token)."""
    import jwt
    claims = jwt.decode(token.token, options={'verify_signature': False})
    if claims.get('xms_mirid'):  # managed identities carry the ARM id of the identity or its host
        kind = 'managedIdentity'
    elif claims.get('idtyp') == 'user' or claims.get('scp'):  # delegated tokens have scopes
        kind = 'user'
    else:
        kind = 'servicePrincipal'
    expires = claims.get('exp')
    return {
        'identityType': kind,
        'name': claims.get('upn') or claims.get('unique_name') or claims.get('name') or claims.get('appid'),
        'displayName': claims.get('name'),
        'appId': claims.get('appid') or claims.get('azp'),
        'objectId': claims.get('oid'),
        'tenant': claims.get('tid'),
        'audience': claims.get('aud'),
        'scopes': (claims.get('scp') or '').split() or claims.get('roles') or [],
        'expires_on': expires,
        'expiresOn': datetime.datetime.fromtimestamp(expires).strftime('%Y-%m-%d %H:%M:%S') if expires else None,
    }


def azure_devops_view(client):
    """What Azure DevOps says about the caller (connectionData), or why it refused."""
    from azure.cli.core.azclierror import AzCLIError
    url = client.organization.url + '/_apis/connectionData'
    try:
        response = client.send('GET', url, [('api-version', CONNECTION_DATA_VERSION)], {}, None)
        data = response.json()
    except AzCLIError as ex:
        return {'accepted': False, 'reason': ex.error_msg, 'recommendation': ' '.join(ex.recommendations) or None}
    except (ValueError, RecursionError):
        return {'accepted': False, 'reason': 'connectionData did not answer with JSON.', 'recommendation': None}
    if not isinstance(data, dict):
        return {'accepted': False, 'reason': 'connectionData answered a JSON %s, not an object.' % type(data).__name__,
                'recommendation': None}
    user = _object(data.get('authenticatedUser'))
    account = _object(_object(user.get('properties')).get('Account')).get('$value')
    return {
        'accepted': True,
        'id': user.get('id'),
        'displayName': user.get('providerDisplayName'),
        'account': account,
        'descriptor': user.get('descriptor'),
        'subjectDescriptor': user.get('subjectDescriptor'),
        'instanceId': data.get('instanceId'),
        'deploymentType': data.get('deploymentType'),
    }


def _object(value):
    return value if isinstance(value, dict) else {}


def whoami(cli_ctx, organization=None, tenant=None):
    from azext_devopstoken._auth import get_access_token
    from azext_devopstoken._client import DevOpsClient, TokenSource
    from azext_devopstoken._http import Transport
    from azext_devopstoken._org import resolve_organization
    from azext_devopstoken._tenant import MSA_TENANT, discover_tenant
    from azext_devopstoken._trust import may_receive_token
    from azext_devopstoken._errors import unreachable_as_az_error
    from azure.cli.core.azclierror import RequiredArgumentMissingError
    try:
        org = resolve_organization(cli_ctx, organization)
    except RequiredArgumentMissingError:
        org = None  # without an organization, only the token's side can be shown
    if org is None:
        return {'token': describe_token(get_access_token(cli_ctx, tenant=tenant)), 'organization': None,
                'azureDevOps': None}
    with Transport() as transport:
        tokens = TokenSource(cli_ctx, org, transport, tenant=tenant)
        tokens.authorization()
        token = describe_token(tokens.token)
        with unreachable_as_az_error():
            org_tenant = discover_tenant(cli_ctx, org, transport)
        return {
            'token': token,
            'organization': {
                'url': org.url,
                'tenant': org_tenant,
                'microsoftAccountBacked': org_tenant == MSA_TENANT,
                'tenantMatchesToken': None if not org_tenant else org_tenant.lower() == (token['tenant'] or '').lower(),
            },
            'azureDevOps': azure_devops_view(DevOpsClient(
                org, tokens, transport, may_receive_token=lambda url: may_receive_token(cli_ctx, url))),
        }
