"""`az devops-rest call`: arguments validated and turned into a request, then sent, paged and written out.

Everything that can be wrong with the arguments is found in :func:`plan` before a token is fetched or
a byte is sent; :func:`execute` does the network work.
"""
import contextlib
import math
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

from azure.cli.core.azclierror import InvalidArgumentValueError
from knack.log import get_logger
from requests.structures import CaseInsensitiveDict

from azext_devopstoken._org import Organization
from azext_devopstoken._request import CallSpec

logger = get_logger(__name__)

NO_PROGRESS_PAGES = 20           # --paginate stops after this many pages in a row that bring no items
MAX_CONTINUATION = 16 * 1024     # characters; a longer continuation token or next link is not followed


@dataclass
class Plan:
    """The validated call: where it goes and what is sent, before any token is fetched."""
    organization: Organization
    spec: CallSpec
    output_file: Optional[str]
    extra_bases: List[str]
    note: Optional[str] = None


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
            tokens = None if the_plan.spec.user_authorization else TokenSource(
                cli_ctx, the_plan.organization, transport, tenant=options.tenant)
            client = DevOpsClient(the_plan.organization, tokens, transport, the_plan.extra_bases,
                                  may_receive_token=lambda url: may_receive_token(cli_ctx, url))
            if options.include:
                from azext_devopstoken._headers import write_response_head
                client.on_response = write_response_head
            try:
                return execute(cli_ctx, options, the_plan, client)
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
    check_transport_numbers(options)
    if not (options.path or '').strip():
        raise InvalidArgumentValueError('--path is empty; give a path such as _apis/projects.')


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
    spec = CallSpec(default_method(options), url, params, headers, body)
    return Plan(organization, spec, output_file, extra_bases, note)


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
    any other host is refused here."""
    from azext_devopstoken._trust import check_token_destination
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
    params = _request.add_api_version(path_params + request.params, request.headers, request.api_version)
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
        base = _locate_service(cli_ctx, organization, service, transport)
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


def _locate_service(cli_ctx, organization, service, transport):
    """A service host's URL from the organization's resource areas (asked without a token); the answer must be a
    host that may receive the token."""
    from azure.cli.core.azclierror import ResourceNotFoundError
    from azext_devopstoken._org import SERVICE_RESOURCE_AREAS
    from azext_devopstoken._http import user_agent
    from azext_devopstoken._errors import unreachable_as_az_error
    url = '%s/_apis/resourceAreas/%s' % (organization.url, SERVICE_RESOURCE_AREAS[service])
    with unreachable_as_az_error():
        response = transport.send('GET', url, [('api-version', '7.1-preview.1')],
                                  {'Accept': 'application/json', 'User-Agent': user_agent()}, None)
    location = None
    if response.ok:
        try:
            document = response.json()
        except (ValueError, RecursionError):
            document = None
        location = document.get('locationUrl') if isinstance(document, dict) else None
    if not isinstance(location, str) or not location.lower().startswith('https://'):
        raise ResourceNotFoundError('%s does not say where its %s service is (resource area lookup answered %d).'
                                    % (organization.url, service, response.status_code))
    from azext_devopstoken._trust import is_trusted, may_receive_token, untrusted_destination_error
    if not (may_receive_token(cli_ctx, location) if cli_ctx is not None else is_trusted(location)):
        raise untrusted_destination_error(location, 'the resource area lookup of %s' % organization.url)
    logger.debug('The %s service of %s is at %s', service, organization.url, location)
    return location.rstrip('/')


def describe(cli_ctx, options, the_plan):
    """What --dry-run prints: the request as it would be sent, the token redacted, and the tenant it would come
    from. Nothing is sent, to Azure DevOps or to Entra ID."""
    import requests
    from azext_devopstoken._auth import planned_tenant
    from azext_devopstoken._client import request_headers
    from azext_devopstoken._header_rules import SECRET
    spec = the_plan.spec
    authorization, token = '<redacted: given with --headers>', None
    if not spec.user_authorization:
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
        'outputFile': the_plan.output_file,
    }
    if the_plan.note:
        result['note'] = the_plan.note
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
        document = _paginate(options, spec, client)
        if the_plan.output_file:
            import json
            from azext_devopstoken._output import write_atomically
            write_atomically(the_plan.output_file, [json.dumps(document, indent=2).encode('utf-8')])
            return None
        return document
    if the_plan.output_file:
        return _download(spec, client, the_plan.output_file)
    from azext_devopstoken._output import is_json
    response, content = _fetch(client, spec.method, spec.url, spec.params, spec.headers, spec.body, is_json)
    from azext_devopstoken._paging import CONTINUATION_HEADER
    if (response.headers.get(CONTINUATION_HEADER) or '').strip():
        logger.warning('Azure DevOps has more results than this page (%s); add --paginate to get them all.',
                       CONTINUATION_HEADER)
    return _single_result(cli_ctx, response, content)


def _fetch(client, method, url, params, headers, body, held):
    """(response, its body read in bounded memory) when ``held(response)``, else (response, None) with the body
    left to stream. An idempotent request whose held body is cut off is asked again, within --max-retries."""
    from requests import exceptions
    from azext_devopstoken._http import IDEMPOTENT
    from azext_devopstoken._limits import read_bounded
    attempts = 1 + (client.transport.policy.max_retries if method in IDEMPOTENT else 0)
    for attempt in range(1, attempts + 1):
        response = client.send(method, url, params, headers, body, stream=True)
        if not held(response):
            return response, None
        try:
            return response, read_bounded(response, passthrough=(exceptions.ChunkedEncodingError,
                                                                 exceptions.ConnectionError))
        except (exceptions.ChunkedEncodingError, exceptions.ConnectionError) as ex:
            if attempt == attempts:
                from azext_devopstoken._errors import devops_unreachable
                raise devops_unreachable(ex, attempt) from None
            logger.warning('The answer was cut off (%s); retrying (retry %d of %d).',
                           type(ex).__name__, attempt, attempts - 1)
    return None, None


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
            raise _too_deep() from None
        except ValueError:
            logger.warning('Azure DevOps said the body is JSON but it does not parse; writing it as it is.')
        chunks = [content]
    if output_format != 'none':
        write_stream_to_stdout(chunks)
    response.close()
    return None


def _download(spec, client, target):
    """Stream the body to ``target`` (constant memory), atomically; a GET cut mid-body is fetched again."""
    from requests import exceptions
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
            if deadline is not None and deadline.expired:
                from azext_devopstoken._deadline import deadline_error
                raise deadline_error(deadline.seconds) from None
            if attempt == attempts:
                from azext_devopstoken._errors import devops_unreachable
                raise devops_unreachable(ex, attempt) from None
            logger.warning('The download was cut off (%s); starting it again (retry %d of %d).',
                           type(ex).__name__, attempt, attempts - 1)
        finally:
            if deadline is not None:
                deadline.cancel()
    return None


def _paginate(options, spec, client):
    from azext_devopstoken._paging import CONTINUATION_PARAM, Merger, Next, next_page
    merger, seen, following = Merger(options.max_items), set(), Next()
    progress, empty_run = _Progress(), 0
    while True:
        url, params = spec.url, [(k, v) for k, v in spec.params if k != CONTINUATION_PARAM]
        if following.link:
            if not client.owns(following.link):
                raise InvalidArgumentValueError('Refusing to follow a nextLink off the organization: %s'
                                                % following.link)
            url, params = following.link, None
        elif following.token:
            params.append((CONTINUATION_PARAM, following.token))
        response, content = _fetch(client, spec.method, url, params, spec.headers, spec.body, lambda _: True)
        before = len(merger.items)
        merger.add(_page_document(response, content))
        progress.show(merger)
        following = next_page(response.headers, merger.last)
        _check_continuation(following, merger.pages)
        empty_run = 0 if len(merger.items) > before else empty_run + 1
        if not following or merger.full or _should_stop(options, merger, following, seen, empty_run):
            break
        seen.add(following)
    progress.done()
    return merger.result()


def _should_stop(options, merger, following, seen, empty_run):
    """True (with a warning) when paging must end although the server says more remain."""
    if following in seen:
        logger.warning('--paginate: the server repeated a continuation token; stopping to avoid a loop.')
    elif empty_run >= NO_PROGRESS_PAGES:
        logger.warning('--paginate: %d pages in a row brought no items; stopping (%d items in %d pages so far).',
                       empty_run, len(merger.items), merger.pages)
    elif options.max_pages is not None and merger.pages >= options.max_pages:
        logger.warning('--paginate: stopped after --max-pages %d; Azure DevOps has more results.', options.max_pages)
    else:
        return False
    return True


def _check_continuation(following, page):
    """A continuation token or next link must be text (a server can put any JSON there)."""
    from azure.cli.core.azclierror import AzureResponseError
    for kind, value in (('continuation token', following.token), ('next link', following.link)):
        if value is not None and not isinstance(value, str):
            raise AzureResponseError('--paginate: page %d has a %s that is a JSON %s, not text; stopping.'
                                     % (page, kind, type(value).__name__))
        if value is not None and len(value) > MAX_CONTINUATION:
            raise AzureResponseError('--paginate: page %d has a %s of %d characters; stopping.'
                                     % (page, kind, len(value)))


def _page_document(response, content):
    import json
    from azure.cli.core.azclierror import AzureResponseError
    from azext_devopstoken._errors import one_line
    try:
        return json.loads(content) if content else None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise AzureResponseError('--paginate needs JSON pages; Azure DevOps answered %s.'
                                 % one_line(response.headers.get('Content-Type') or 'a body without a content type'))


def _too_deep():
    from azure.cli.core.azclierror import AzureResponseError
    return AzureResponseError('Azure DevOps answered JSON nested too deeply to read (over about %d levels).'
                              % sys.getrecursionlimit(),
                              recommendation='Save the body as it is with --output-file FILE.')


class _Progress:
    """Pages and items so far, on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def show(self, merger):
        if self.enabled:
            sys.stderr.write('\rFetched %d items in %d pages...' % (len(merger.items), merger.pages))
            sys.stderr.flush()
            self.shown = True

    def done(self):
        if self.shown:
            sys.stderr.write('\n')
            sys.stderr.flush()
