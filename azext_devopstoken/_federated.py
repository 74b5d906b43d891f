"""Renewal of a federated service-principal login whose assertion has expired (AADSTS700024).

`az login --service-principal --federated-token JWT` keeps that one JWT (service_principal_entries.json) and
presents it on every token request; CI systems make it live 5 (GitHub) or 10 (Azure Pipelines) minutes, so a
later request for a new resource, or after the access token's hour, fails (azure-cli#28708, Azure/login#180).
Here, only after Entra said AADSTS700024 for a service principal, a fresh assertion is fetched from the CI system
the command runs in and the Azure DevOps token is acquired with it through az's own ServicePrincipalCredential,
over az's own MSAL token and HTTP caches (so the token lands where az keeps tokens and later processes reuse it).

The fresh assertion lives in this process only: it is never printed, logged or written; az's stored login is left
as it is (README, "Pipelines": rewriting it would put a live bearer credential back on disk for a few minutes of
benefit, and race other az processes on a file az writes without a read lock).

Sources for the CI side: actions/toolkit packages/core/src/oidc-utils.ts (GitHub: GET
ACTIONS_ID_TOKEN_REQUEST_URL + "&audience=", Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, {"value"}); Azure/azure-sdk-for-
python azure/identity/_credentials/azure_pipelines.py and azure-sdk-for-rust azure_pipelines_credential.rs (POST
SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=, Bearer SYSTEM_ACCESSTOKEN, X-TFS-FedAuthRedirect:
Suppress, {"oidcToken"}); microsoft/azure-pipelines-tasks Tasks/AzureCLIV2/azureclitask.ts (AzureCLI@2 sets
AZURESUBSCRIPTION_SERVICE_CONNECTION_ID for its script).
"""
import os
import time
from urllib.parse import quote, urlsplit

TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'
EXPIRED_ASSERTION_CODE = 700024
GITHUB_VARS = ('ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN')
PIPELINES_VARS = ('SYSTEM_OIDCREQUESTURI', 'SYSTEM_ACCESSTOKEN', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID')
MAX_ANSWER_BYTES = 64 * 1024     # an OIDC answer is one JWT; never read an unbounded body
TIMEOUT = (10, 30)               # connect, read (seconds)


def is_expired_assertion(ex):
    """Whether an az AuthenticationError is Entra's AADSTS700024 (az keeps MSAL's error dict as msal_error)."""
    error = getattr(ex, 'msal_error', None)
    if not isinstance(error, dict):
        return False
    codes = error.get('error_codes')
    return ((isinstance(codes, list) and EXPIRED_ASSERTION_CODE in codes)
            or str(error.get('error_description', '')).startswith('AADSTS%d:' % EXPIRED_ASSERTION_CODE))


def renewable_account(account):
    """Whether the account is a service principal (managed identities also say servicePrincipal, with
    assignedIdentityInfo): the only kind a federated token logs in."""
    user = account.get('user') or {}
    return user.get('type') == 'servicePrincipal' and 'assignedIdentityInfo' not in user


def renew(cli_ctx, account, resource, tenant=None):
    """(token, expires_on) for ``resource``, acquired with a fresh assertion from the CI system; one-line
    AuthenticationError when no CI system can give one."""
    fetch = assertion_source(os.environ)
    if fetch is None:
        raise expired_without_source(os.environ)
    credential = _service_principal_credential(cli_ctx, account['user']['name'], tenant or account['tenantId'],
                                               _once(fetch))
    return _acquire(credential, [resource.rstrip('/') + '/.default'])


def assertion_source(environ):
    """A zero-argument callable returning a fresh assertion from the CI system the command runs in, or None."""
    if all(environ.get(name) for name in GITHUB_VARS):
        return lambda: _github_assertion(environ)
    if all(environ.get(name) for name in PIPELINES_VARS):
        return lambda: _pipelines_assertion(environ)
    return None


def expired_without_source(environ):
    from azure.cli.core.azclierror import AuthenticationError
    start = "The federated token given to 'az login' has expired (AADSTS700024) and this job offers no fresh one: "
    if environ.get('GITHUB_ACTIONS') == 'true':
        fix = "grant the job 'permissions: id-token: write' (it sets %s)." % ' and '.join(GITHUB_VARS)
    elif environ.get('TF_BUILD') or environ.get('SYSTEM_OIDCREQUESTURI'):
        missing = [name for name in PIPELINES_VARS if not environ.get(name)]
        fix = ("run the commands in the inlineScript of an AzureCLI@2 task with a workload identity service "
               "connection and map 'SYSTEM_ACCESSTOKEN: $(System.AccessToken)' in its env (missing: %s)."
               % ', '.join(missing))
    else:
        fix = ("in GitHub Actions grant 'permissions: id-token: write'; in Azure Pipelines map "
               "'SYSTEM_ACCESSTOKEN: $(System.AccessToken)' in the AzureCLI@2 step; elsewhere run "
               "'az login --federated-token' again with a fresh token.")
    return AuthenticationError(start + fix)


def _once(fetch):
    """MSAL calls the assertion callable on every request it sends; ask the CI system once per process."""
    kept = []

    def assertion():
        if not kept:
            kept.append(fetch())
        return kept[0]
    return assertion


def _github_assertion(environ):
    url = environ['ACTIONS_ID_TOKEN_REQUEST_URL']
    url += ('&' if '?' in url else '?') + 'audience=' + quote(TOKEN_EXCHANGE_AUDIENCE, safe='')
    return _fetch('GET', url, 'ACTIONS_ID_TOKEN_REQUEST_URL', environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN'], 'value',
                  {'Accept': 'application/json'})


def _pipelines_assertion(environ):
    uri = environ['SYSTEM_OIDCREQUESTURI'].rstrip('/')
    uri += ('&' if '?' in uri else '?') + 'api-version=7.1&serviceConnectionId=' + quote(
        environ['AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'], safe='')
    return _fetch('POST', uri, 'SYSTEM_OIDCREQUESTURI', environ['SYSTEM_ACCESSTOKEN'], 'oidcToken',
                  {'Content-Type': 'application/json', 'X-TFS-FedAuthRedirect': 'Suppress'})


def _fetch(method, url, variable, bearer, field, headers):  # pylint: disable=too-many-arguments
    """The JWT in ``field`` of the CI endpoint's JSON answer. Errors name the variable, never a value or body."""
    import requests
    from azure.cli.core.azclierror import AuthenticationError, AzureConnectionError
    from azext_devopstoken._failures import connection_failure_reason
    if urlsplit(url).scheme != 'https':
        raise AuthenticationError('%s is not an https URL: the job token is not sent over plain http.' % variable)
    headers = dict(headers, Authorization='Bearer ' + bearer)
    try:
        with requests.request(method, url, headers=headers, data=b'' if method == 'POST' else None, stream=True,
                              timeout=TIMEOUT, allow_redirects=False) as response:
            body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as ex:
        raise AzureConnectionError('Cannot reach the OIDC endpoint in %s to renew the federated token: %s.'
                                   % (variable, connection_failure_reason(ex))) from None
    token = _token_in(body, field) if status == 200 and len(body) <= MAX_ANSWER_BYTES else None
    if token is None:
        raise AuthenticationError('The OIDC endpoint in %s gave no fresh federated token (HTTP %d%s).'
                                  % (variable, status, '' if status != 200 else ', no %r in the answer' % field))
    return token


def _token_in(body, field):
    import json
    try:
        value = json.loads(body.decode('utf-8')).get(field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value.count('.') == 2 else None


def _service_principal_credential(cli_ctx, client_id, tenant_id, assertion):
    """az's own ServicePrincipalCredential over az's shared MSAL caches, with a callable assertion that MSAL
    invokes only when it sends a request (msal application.py, client_credential docs)."""
    from azure.cli.core._profile import _create_identity_instance
    identity = _create_identity_instance(cli_ctx, cli_ctx.cloud.endpoints.active_directory, tenant_id=tenant_id)
    msal_kwargs = identity._msal_app_kwargs  # pylint: disable=protected-access
    try:  # az 2.65+
        from azure.cli.core.auth.msal_credentials import ServicePrincipalCredential
    except ImportError:  # az 2.45 - 2.64
        from azure.cli.core.auth.identity import ServicePrincipalAuth
        from azure.cli.core.auth.msal_authentication import ServicePrincipalCredential as Legacy
        return Legacy(ServicePrincipalAuth.build_from_credential(tenant_id, client_id, {'client_assertion': assertion}),
                      **msal_kwargs)
    return ServicePrincipalCredential(client_id, {'client_assertion': assertion}, **msal_kwargs)


def _acquire(credential, scopes):
    """(token, expires_on) from either era of az's credential API (acquire_token from 2.71, get_token before)."""
    if hasattr(credential, 'acquire_token'):
        result = credential.acquire_token(scopes)  # az's check_result has raised on an error answer
        return result['access_token'], int(time.time()) + int(result['expires_in'])
    token = credential.get_token(*scopes)
    return token.token, int(token.expires_on)
