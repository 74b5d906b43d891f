"""`az devops-rest call`: arguments validated and turned into a request, then sent, paged and written out.

Everything that can be wrong with the arguments is found in :func:`plan` before a token is fetched or
a byte is sent; :func:`execute` does the network work.
"""
import contextlib
import math
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from azure.cli.core.azclierror import InvalidArgumentValueError
from knack.log import get_logger
from requests.structures import CaseInsensitiveDict

from azext_devopstoken._org import Organization
from azext_devopstoken._request import CallSpec

logger = get_logger(__name__)


@dataclass
class Plan:
    """The validated call: where it goes and what is sent, before any token is fetched."""
    organization: Organization
    spec: CallSpec
    output_file: Optional[str]
    extra_bases: List[str]
    note: Optional[str] = None
    version_base: Optional[str] = None   # the host whose api-versions apply (org URL or service host URL)
    auto_version: bool = False           # devops-token chose the api-version (none was given)
    version_source: Optional[str] = None


def run(cli_ctx, options):
    """The whole command: plan, then (unless --dry-run) send on one connection pool and shape the result."""
    from azure.cli.core.commands.transform import unregister_global_transforms
    from azext_devopstoken._client import DevOpsClient, TokenSource
    from azext_devopstoken._trust import may_receive_token
    # Like `az rest`: the result is the service's JSON, so az's resource-group/x509 transforms must not touch it.
    unregister_global_transforms(cli_ctx)
    if options.dry_run:
        the_plan = plan(cli_ctx, options, None)
        with _closing_body(the_plan.spec):
            return describe(cli_ctx, options, the_plan)
    with new_transport(options) as transport:
        the_plan = plan(cli_ctx, options, transport)
        with _closing_body(the_plan.spec):
            tokens = None
            if not the_plan.spec.user_authorization:
                tokens = pat_source(cli_ctx, the_plan.organization) or TokenSource(
                    cli_ctx, the_plan.organization, transport, tenant=options.tenant)
            client = DevOpsClient(the_plan.organization, tokens, transport, the_plan.extra_bases,
                                  may_receive_token=lambda url: may_receive_token(cli_ctx, url))
            if options.include:
                from azext_devopstoken._headers import write_response_head
                client.on_response = write_response_head
            try:
                return execute(cli_ctx, options, the_plan, versioned(cli_ctx, the_plan, client))
            except Exception as ex:
                from azext_devopstoken._error_output import show_error_document
                show_error_document(cli_ctx, ex)
                raise


@contextlib.contextmanager
def _closing_body(spec):
    """Closes an --input body (an open file or spool) when the call is done."""
    try:
        yield spec
    finally:
        close = getattr(spec.body, 'close', None)
        if close:
            close()


def versioned(cli_ctx, the_plan, client):
    """The client behind api-version negotiation (see _versions)."""
    from azext_devopstoken._negotiate import VersionedSender
    from azext_devopstoken._versions import LocationCache
    return VersionedSender(client, LocationCache(cli_ctx.config.config_dir), the_plan.version_base or
                           the_plan.organization.url, the_plan.auto_version)


def pat_source(cli_ctx, organization):
    """AZURE_DEVOPS_EXT_PAT for a host that gets no Entra token (Azure DevOps Server), else None."""
    from azext_devopstoken._credentials import PatSource, environment_pat
    pat = environment_pat(cli_ctx, organization)
    if pat:
        logger.debug('%s is not Azure DevOps Services: sending AZURE_DEVOPS_EXT_PAT as Basic.', organization.url)
    return PatSource(pat) if pat else None


def new_transport(options):
    """The Transport for --timeout, --max-retries and --max-retry-wait (shared by `call` and `batch`)."""
    from azext_devopstoken._http import RetryPolicy, Transport
    timeout = (options.timeout, options.timeout) if options.timeout else (15.0, 120.0)
    return Transport(timeout=timeout, policy=RetryPolicy(max_retries=options.max_retries,
                                                         max_wait=options.max_retry_wait))


def _check_numbers(options):
    if options.max_items is not None and options.max_items < 1:
        raise InvalidArgumentValueError('--max-items must be 1 or more; got %s.' % options.max_items)
    if options.max_items is not None and not options.paginate:
        raise InvalidArgumentValueError('--max-items applies to --paginate; add --paginate.')
    if options.max_pages is not None and options.max_pages < 1:
        raise InvalidArgumentValueError('--max-pages must be 1 or more; got %s.' % options.max_pages)
    if options.max_pages is not None and not options.paginate:
        raise InvalidArgumentValueError('--max-pages applies to --paginate; add --paginate.')
    _check_parallel(options)
    check_transport_numbers(options)
    if not (options.path or '').strip():
        raise InvalidArgumentValueError('--path is empty; give a path such as _apis/projects.')


def _check_parallel(options):
    from azext_devopstoken._options import check_parallel
    if options.parallel is None:
        return
    check_parallel(options.parallel)
    if not options.paginate:
        raise InvalidArgumentValueError('--parallel applies to --paginate (pages fetched at once); add --paginate, '
                                        'or use `az devops-rest batch --parallel` for many requests.')


def check_transport_numbers(options):
    """--timeout, --max-retries and --max-retry-wait (shared by `call` and `batch`)."""
    if options.timeout is not None and not (math.isfinite(options.timeout) and options.timeout > 0):
        raise InvalidArgumentValueError('--timeout must be a positive number of seconds; got %s.' % options.timeout)
    if options.max_retries is not None and options.max_retries < 0:
        raise InvalidArgumentValueError('--max-retries must be 0 or more; got %s.' % options.max_retries)
    if options.max_retry_wait is not None and not (math.isfinite(options.max_retry_wait)
                                                   and options.max_retry_wait >= 0):
        raise InvalidArgumentValueError('--max-retry-wait must be 0 or more seconds; got %s.' % options.max_retry_wait)


def plan(cli_ctx, options, transport):
    """Validate everything and build the request; may ask the organization (without a token) where a
    --service host lives, unless ``transport`` is None (--dry-run: nothing is sent)."""
    from azext_devopstoken import _org, _request
    from azext_devopstoken._body import default_method, request_body
    from azext_devopstoken._output import check_output_file
    _check_numbers(options)
    organization = _org.resolve_organization(cli_ctx, options.organization)
    placeholders = {'project': _org.resolve_project(cli_ctx, options.project), 'organization': organization.name,
                    'team': options.team}
    params = _request.parse_pairs(options.query_parameters, '--query-parameters')
    headers = _checked_headers(cli_ctx, options, organization)
    output_file = check_output_file(options.output_file) if options.output_file else None
    wanted = Target(options.path, params, headers, options.service, options.api_version)
    url, params, extra_bases, note = request_target(organization, wanted, placeholders, transport, cli_ctx)
    body, content_type = request_body(options, options.content_type or headers.get('Content-Type'))
    if content_type:
        headers['Content-Type'] = content_type  # replaces a Content-Type given in any casing
    the_plan = Plan(organization, CallSpec(default_method(options), url, params, headers, body), output_file,
                    extra_bases, note)
    the_plan.version_base = version_base_of(organization, url, extra_bases)
    the_plan.auto_version = _request.takes_api_version(url) and not (
        options.api_version or _request.has_api_version(wanted.params, headers)
        or re.search(r'[?&]api-version=', options.path, re.I))
    if the_plan.auto_version:   # 7.1 chosen by devops-token: negotiable, pre-selected from cached location data
        _preselect_version(cli_ctx, the_plan)
    return the_plan


def version_base_of(organization, url, extra_bases):
    """The base URL whose location data covers ``url``: a service host looked up for it, else the organization
    URL on its own host, else the first path segment of the URL's host (https://vssps.dev.azure.com/{org})."""
    from urllib.parse import urlsplit
    for base in extra_bases:
        if url.lower().startswith(base.lower().rstrip('/') + '/'):
            return base.rstrip('/')
    parts = urlsplit(url)
    if parts.netloc.lower() == organization.host:
        return organization.url
    first = [s for s in parts.path.split('/') if s][:1]
    return '%s://%s/%s' % (parts.scheme, parts.netloc, first[0] if first else '')


def _preselect_version(cli_ctx, the_plan):
    """Use what cached location data says for this route (no request), so a refused version is not sent again."""
    from azext_devopstoken import _versions
    from azext_devopstoken._negotiate import current_version, with_version
    entry = _versions.LocationCache(cli_ctx.config.config_dir).get(the_plan.version_base)
    version, source = _versions.cached_choice(entry, _versions.sub_path_of(the_plan.spec.url, the_plan.version_base),
                                              current_version(the_plan.spec.params) or _versions.DEFAULT_API_VERSION)
    the_plan.version_source = source
    if source != 'default':
        the_plan.spec.params = with_version(the_plan.spec.params, version)
        logger.debug('api-version %s for %s, from %s.', version, the_plan.spec.url, source)


def _checked_headers(cli_ctx, options, organization):
    """--headers, checked; without an Authorization among them the token must be allowed to go to the
    organization (checked here, before anything is sent or fetched)."""
    from azext_devopstoken._header_rules import parse_headers
    headers = CaseInsensitiveDict(parse_headers(options.headers))
    if not headers.get('Authorization'):
        check_credential_destination(cli_ctx, organization)
    return headers


def check_credential_destination(cli_ctx, organization):
    """The credential rule, before any token is fetched or anything is sent: a user Authorization header goes as
    given (the caller checks); an Azure DevOps Services host or a host trusted by name gets the Entra token;
    any other host gets AZURE_DEVOPS_EXT_PAT when it is set (an Azure DevOps Server collection), else is refused
    here."""
    from azext_devopstoken._credentials import environment_pat
    from azext_devopstoken._trust import check_token_destination
    if environment_pat(cli_ctx, organization):
        return
    check_token_destination(cli_ctx, organization.url, organization.origin)


@dataclass
class Target:
    """Where one request goes, as asked for (by `call`'s options, or by a `batch` line)."""
    path: str
    params: List[Tuple[str, str]]
    headers: CaseInsensitiveDict
    service: Optional[str] = None
    api_version: Optional[str] = None


def request_target(organization, request, placeholders, transport=None, cli_ctx=None):
    """(url, query pairs with the api-version, extra service bases, note) for one request, by --path's rules
    (`call`, and each `batch` line): placeholders, a URL copied from the REST docs (https://dev.azure.com/
    {organization}/...) taken as a path on the organization given, other full URLs only on the organization,
    '.'/'..' refused, api-version 7.1 unless given."""
    from azext_devopstoken import _request
    url, path_params, extra_bases, note = _url(organization, request.path, request.service, placeholders,
                                               transport, cli_ctx)
    params = path_params + request.params
    if _request.takes_api_version(url) or request.api_version:   # none for _odata and _git paths
        params = _request.add_api_version(params, request.headers, request.api_version)
    return url, params, extra_bases, note


def _url(organization, path, service, placeholders, transport, cli_ctx=None):
    from azext_devopstoken import _request
    docs = _request.docs_url(path)
    if docs:
        if service and docs.service and service != docs.service:
            raise InvalidArgumentValueError('--path is on the %s host but --service says %s; give one of them.'
                                            % (docs.service, service))
        path, service = docs.path, service or docs.service
    elif _request.is_absolute(path):
        if service:
            raise InvalidArgumentValueError('--service applies to a relative --path; this one is a full URL.')
        url, path_params = _absolute_url(organization, _request.expand_placeholders(path, placeholders))
        return url, path_params, [], None
    extra_bases, note = [], None
    base = organization.service_url(service) if service else organization.url
    if base is None and transport is None:
        base, note = organization.url, ('The %s host of this organization is looked up in its resource areas '
                                        'when the call is sent.' % service)
    elif base is None:
        from azext_devopstoken._service_hosts import locate_service
        base = locate_service(cli_ctx, organization, service, transport)
        extra_bases.append(base)
    url, path_params = _request.build_url(base, _request.expand_placeholders(path, placeholders))
    return url, path_params, extra_bases, note


def _absolute_url(organization, path):
    from urllib.parse import parse_qsl, urlsplit, urlunsplit
    from azext_devopstoken._org import has_dot_segments
    if has_dot_segments(urlsplit(path).path):
        raise InvalidArgumentValueError('--path %s has "." or ".." segments; give the URL without them.' % path)
    if not organization.owns(path):
        parts = urlsplit(path)
        raise InvalidArgumentValueError(
            'Refusing to send the Azure DevOps token to %s: a full URL in --path must be https and on the '
            'organization %s or its service hosts.' % (parts.netloc or path, organization.url),
            recommendation='Give a path relative to the organization (e.g. _apis/projects), or use --service for '
                           'another Azure DevOps service of the same organization.')
    parts = urlsplit(path)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, '', '')), parse_qsl(parts.query,
                                                                                   keep_blank_values=True)


def describe(cli_ctx, options, the_plan):
    """What --dry-run prints: the request as it would be sent, the token redacted, and the tenant it would come
    from. Nothing is sent, to Azure DevOps or to Entra ID."""
    import requests
    from azext_devopstoken._auth import planned_tenant
    from azext_devopstoken._client import request_headers
    from azext_devopstoken._header_rules import SECRET
    spec = the_plan.spec
    from azext_devopstoken._credentials import environment_pat
    authorization, token = '<redacted: given with --headers>', None
    if not spec.user_authorization and environment_pat(cli_ctx, the_plan.organization):
        authorization = 'Basic <redacted: AZURE_DEVOPS_EXT_PAT>'
    elif not spec.user_authorization:
        authorization = 'Bearer <redacted>'
        tenant, source = planned_tenant(cli_ctx, the_plan.organization, options.tenant)
        token = {'tenant': tenant, 'from': source}
    headers = request_headers(spec.headers, authorization)
    shown = {name: ('<redacted>' if name.lower() in SECRET and name.lower() != 'authorization' else value)
             for name, value in headers.items()}
    result = {
        'method': spec.method,
        'url': requests.Request(spec.method, spec.url, params=spec.params).prepare().url,
        'headers': shown,
        'body': _body_for_display(spec.body, headers.get('Content-Type')),
        'token': token,
        'paginate': options.paginate,
        **({'parallel': options.parallel} if options.parallel is not None else {}),
        'outputFile': the_plan.output_file,
    }
    if the_plan.note:
        result['note'] = the_plan.note
    if the_plan.version_source and the_plan.version_source != 'default':
        result['apiVersionFrom'] = the_plan.version_source
    return result


def _body_for_display(body, content_type):
    import json
    if body is None:
        return None
    if not isinstance(body, bytes):  # --input: an InputBody
        return '<%d bytes from --input>' % body.length
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError:
        return '<%d bytes>' % len(body)
    if content_type and 'json' in content_type.lower():
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text  # e.g. --content-type text/json with a body that is not JSON: shown as it is sent
    return text


def execute(cli_ctx, options, the_plan, client):
    """Send the planned call; returns what knack should print (None when the body went elsewhere)."""
    spec = the_plan.spec
    if options.paginate:
        from azext_devopstoken._pages import paginate
        document = paginate(options, spec, client)
        if the_plan.output_file:
            import json
            from azext_devopstoken._output import write_atomically
            write_atomically(the_plan.output_file, [json.dumps(document, indent=2).encode('utf-8')])
            return None
        return document
    if the_plan.output_file:
        return _download(spec, client, the_plan.output_file)
    from azext_devopstoken._output import is_json
    from azext_devopstoken._pages import fetch
    response, content = fetch(client, spec.method, spec.url, spec.params, spec.headers, spec.body, is_json)
    _warn_if_more(response, _parsed_or_none(content), spec.params)
    return _single_result(cli_ctx, response, content)


def _parsed_or_none(content):
    import json
    try:
        return json.loads(content) if content else None
    except (ValueError, RecursionError):
        return None


def _warn_if_more(response, document, params):
    """Without --paginate: say so when the page has a continuation, or looks full."""
    from azext_devopstoken._paging import looks_full, next_page
    if next_page(response.headers, document):
        logger.warning('Azure DevOps has more results than this page; add --paginate to get them all.')
    elif looks_full(document, params):
        logger.warning('This page is full, so there may be more results; add --paginate to get them all.')


def _single_result(cli_ctx, response, content):
    """JSON for az to print (``content``, already held in bounded memory), or any other body streamed to stdout
    unchanged."""
    import json
    from azext_devopstoken._limits import body_chunks
    from azext_devopstoken._output import write_stream_to_stdout
    output_format = (getattr(cli_ctx, 'invocation', None) and cli_ctx.invocation.data.get('output')) or 'json'
    chunks = body_chunks(response)
    if content is not None:
        if not content:
            return None
        try:
            return json.loads(content)
        except RecursionError:
            from azext_devopstoken._pages import too_deep
            raise too_deep() from None
        except ValueError:
            logger.warning('Azure DevOps said the body is JSON but it does not parse; writing it as it is.')
        chunks = [content]
    if output_format != 'none':
        write_stream_to_stdout(chunks)
    response.close()
    return None


def _download(spec, client, target):
    """Stream the body to ``target`` (constant memory), atomically; a GET cut mid-body (or stalled past its
    deadline) is fetched again, within --max-retries."""
    from requests import exceptions
    from azext_devopstoken._http import describe_failure
    from azext_devopstoken._limits import STREAM_CHUNK, paced
    from azext_devopstoken._output import is_stream_target, write_atomically
    restartable = spec.method in ('GET', 'HEAD') and not is_stream_target(target)  # a FIFO cannot be rewound
    attempts = 1 + (client.transport.policy.max_retries if restartable else 0)
    for attempt in range(1, attempts + 1):
        response = client.send(spec.method, spec.url, spec.params, spec.headers, spec.body, stream=True)
        deadline = getattr(response, 'deadline', None)
        try:
            with response:
                size = write_atomically(target, paced(response, STREAM_CHUNK))
            logger.info('Wrote %d bytes to %s', size, target)
            return None
        except (exceptions.ChunkedEncodingError, exceptions.ConnectionError) as ex:
            failure = deadline.exceeded() if deadline is not None and deadline.expired else ex
            if attempt == attempts:
                from azext_devopstoken._errors import devops_unreachable
                raise devops_unreachable(failure, attempt) from None
            logger.warning('%s; starting it again (retry %d of %d).',
                           describe_failure(failure, 'The download was cut off'), attempt, attempts - 1)
        finally:
            if deadline is not None:
                deadline.cancel()
    return None
