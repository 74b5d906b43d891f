"""One Azure DevOps call (or a run of pages) with a token fetched once and refreshed only when it expires."""
import threading
import time

from knack.log import get_logger

logger = get_logger(__name__)

# Always sent: 401 instead of a sign-in page, and Microsoft-account pass-through, as Microsoft's own client does.
FIXED_HEADERS = {'X-TFS-FedAuthRedirect': 'Suppress', 'X-VSS-ForceMsaPassThrough': 'true'}
_REFRESH_MARGIN = 120  # seconds: a token this close to expiry is replaced before the next request


def request_headers(given, authorization=None):
    """The headers a call goes out with: ours, then the caller's (theirs win, in any casing), then
    ``authorization`` when given. Sending and --dry-run both build them here, so the dry run shows what is sent."""
    from requests.structures import CaseInsensitiveDict
    from azext_devopstoken._http import user_agent
    from azext_devopstoken._inflate import ACCEPT_ENCODING
    # Accept-Encoding: what _inflate decodes in bounded memory on every urllib3 (requests would add br or zstd
    # when their modules happen to be installed).
    headers = CaseInsensitiveDict({'User-Agent': user_agent(), 'Accept': 'application/json',
                                   'Accept-Encoding': ACCEPT_ENCODING})
    headers.update(FIXED_HEADERS)
    headers.update(given)
    if authorization is not None:
        headers['Authorization'] = authorization
    return headers


class TokenSource:
    """Fetches the organization's Azure DevOps token on first use and again only when it is about to expire.
    Thread-safe: the workers of a batch share one, and a token expiring mid-batch is fetched once, by one."""

    def __init__(self, cli_ctx, organization, transport, tenant=None):
        self._cli_ctx = cli_ctx
        self._organization = organization
        self._transport = transport  # for the tenant discovery probe
        self._tenant = tenant
        self._token = None
        self._named_tenant = None   # the tenant a 401 named, once it has been tried
        self._lock = threading.Lock()

    @property
    def token(self):
        """The AccessToken held (fetch it with authorization() first)."""
        return self._token

    def authorization(self):
        with self._lock:
            if self._token is None or self._token.expires_on - time.time() < _REFRESH_MARGIN:
                from azext_devopstoken._auth import get_organization_token, token_in_tenant
                if self._named_tenant:
                    self._token = token_in_tenant(self._cli_ctx, self._organization, self._named_tenant)
                else:
                    self._token = get_organization_token(self._cli_ctx, self._organization, self._transport,
                                                         tenant=self._tenant)
                logger.debug('Got an Azure DevOps token from tenant %s (expires at %s).', self._token.tenant,
                             self._token.expires_on_local)
            return '%s %s' % (self._token.token_type, self._token.token)

    def expired(self):
        """True when the token held is past its expiry (a 401 then means: fetch a new one and retry)."""
        return self._token is not None and self._token.expires_on <= time.time()

    def forget(self):
        with self._lock:
            self._token = None

    def retarget(self, response):
        """True when a 401 names another tenant than the token's and a token is to be fetched there (once per
        command; not with --tenant/--subscription, nor for managed identities, which cannot switch tenant)."""
        from azext_devopstoken import _tenant
        if self._named_tenant or self._tenant or self._cli_ctx.data.get('subscription_id') or self._token is None:
            return False
        if not self._organization.owns(getattr(response, 'url', '') or ''):
            return False   # a redirect led elsewhere (another organization): its tenant is not ours
        named = _tenant.resource_tenant(response)
        if named in (None, _tenant.MSA_TENANT) or named.lower() == (self._token.tenant or '').lower():
            return False
        kind = _tenant.account_kind(_tenant.current_account(self._cli_ctx))
        if kind not in ('user', 'servicePrincipal'):
            return False
        logger.warning('%s answered 401 naming tenant %s; getting a token there and trying again.',
                       self._organization.url, named)
        with self._lock:
            self._named_tenant, self._token = named, None
        _tenant.store_tenant(self._cli_ctx, self._organization.url, named)
        return True


class DevOpsClient:
    """Sends calls for one organization: fixed headers, the token, and errors turned into az errors."""

    def __init__(self, organization, token_source, transport, extra_bases=(), may_receive_token=None):
        from azext_devopstoken import _trust
        self.organization = organization
        self.tokens = token_source        # None when the user gave their own Authorization header
        self.transport = transport
        self.extra_bases = list(extra_bases)
        # url -> whether the token may go there (_trust); by default only Azure DevOps Services hosts.
        self.may_receive_token = may_receive_token or _trust.is_trusted
        self.on_response = None           # called with every final response before it is checked (-i)

    def owns(self, url):
        """On the organization (redirects and next links keep the token) and a host that may receive it."""
        return self.organization.owns(url, self.extra_bases) and self.may_receive_token(url)

    def send(self, method, url, params, headers, body, stream=False):
        """The successful response, or an az error."""
        response = self.send_raw(method, url, params, headers, body, stream)
        self.check(response)
        return response

    def send_raw(self, method, url, params, headers, body, stream=False):
        """The final response, any status (connection failures are az errors). A 401 on an expired token gets
        one retry with a new one."""
        from azext_devopstoken._http import GaveUp
        try:
            response = self.send_any(method, url, params, headers, body, stream)
        except GaveUp as ex:
            from azext_devopstoken._errors import devops_unreachable
            raise devops_unreachable(ex.cause, ex.attempts) from None
        if self.on_response is not None:
            self.on_response(response)
        return response

    def send_any(self, method, url, params, headers, body, stream=False):
        """The response whatever its status (``check`` not applied; GaveUp propagates). A 401 on an expired
        token, or one naming another tenant than the token's, gets one retry with a new one."""
        response = self._send(method, url, params, headers, body, stream)
        if response.status_code == 401 and self.tokens is not None and (
                self.tokens.expired() or self.tokens.retarget(response)):
            response.close()
            self.tokens.forget()
            response = self._send(method, url, params, headers, body, stream)
        return response

    def _send(self, method, url, params, headers, body, stream):
        # A request with its own Authorization header (a batch line's "headers") is sent as given, without ours.
        own = any(name.lower() == 'authorization' for name in headers)
        authorization = self.tokens.authorization() if self.tokens is not None and not own else None
        return self.transport.send(method, url, params, request_headers(headers, authorization), body,
                                   stream=stream, owns=self.owns)

    def check(self, response):
        from azext_devopstoken import _errors
        if response.status_code >= 400 or response.status_code == 203:
            from azext_devopstoken._limits import hold_error_body
            hold_error_body(response)
        from azext_devopstoken._error_output import attach_document
        if response.status_code == 401:
            raise attach_document(_errors.unauthorized_error(response, self.tokens.token if self.tokens else None,
                                                             self.organization.url), response)
        if _errors.is_sign_in_page(response):
            raise _errors.sign_in_page_error(self.organization.url)
        if response.status_code >= 400:
            raise attach_document(_errors.response_error(response), response)
        if response.is_redirect:
            from azure.cli.core.azclierror import AzureResponseError
            from azext_devopstoken._http import MAX_REDIRECTS
            from azext_devopstoken._errors import one_line
            raise AzureResponseError('Azure DevOps redirected more than %d times; last Location: %s'
                                     % (MAX_REDIRECTS, one_line(response.headers.get('Location') or '')))
