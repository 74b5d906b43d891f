"""`az devops-rest batch`: the options checked, then the engine (``_batch.run_batch``) run with a ``prepare``
that applies `devops-rest call`'s planning rules to each line and a ``send`` that shares one token and one pool
of kept-alive connections between the workers.
"""
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Optional

from azure.cli.core.azclierror import FileOperationError
from knack.log import get_logger
from requests.structures import CaseInsensitiveDict

from azext_devopstoken._request import CallSpec

logger = get_logger(__name__)


def run(cli_ctx, options):
    """Run the batch; results go to stdout as they come. Returns None, or raises when a line failed."""
    from azext_devopstoken import _org
    from azext_devopstoken._batch import TerminalProgress, run_batch
    from azext_devopstoken._batch_gate import ThrottleGate
    from azext_devopstoken._call import check_transport_numbers, new_transport, pat_source
    from azext_devopstoken._client import DevOpsClient, TokenSource
    check_options(options)
    check_transport_numbers(options)
    organization = _org.resolve_organization(cli_ctx, options.organization)
    project = _org.resolve_project(cli_ctx, options.project)
    gate = ThrottleGate(options.parallel)
    with open_input(options.input) as lines, new_transport(options) as transport:
        _share(transport, gate, options.parallel)
        # An Azure DevOps Server collection gets AZURE_DEVOPS_EXT_PAT, as in `call`; anything else the Entra token.
        tokens = pat_source(cli_ctx, organization) or \
            TokenSource(cli_ctx, organization, transport, tenant=options.tenant)
        tokens.authorization()  # once, up front: a login problem is one ERROR, not one per line
        send_line, prepare_line = _line_steps(cli_ctx, DevOpsClient(organization, tokens, transport), project)
        summary = run_batch(lines, send_line, sys.stdout, prepare=prepare_line,
                            parallel=options.parallel, stop_on_error=options.stop_on_error, gate=gate,
                            progress=TerminalProgress(cli_ctx))
    return finish(summary)


def _share(transport, gate, parallel):
    """One pool of ``parallel`` kept-alive connections for the workers; the transport retries 429/503 itself, so
    the gate hears of them before it sleeps, to hold the others."""
    from azext_devopstoken._adapter import mount_pool
    mount_pool(transport.session, parallel)
    transport.on_retry = lambda response: gate.observe(response.status_code, response.headers)


def _line_steps(cli_ctx, client, project):
    """(send, prepare) for each line, sharing the client and the location tables of api-version negotiation."""
    from azext_devopstoken._negotiate import LocationTables
    from azext_devopstoken._versions import LocationCache
    tables = LocationTables(LocationCache(cli_ctx.config.config_dir))
    return (lambda spec: send(client, spec, tables),
            lambda request: prepare(client.organization, project, request, tables))


def check_options(options):
    from azext_devopstoken._options import check_parallel
    check_parallel(options.parallel)
    name = options.input
    if name == '-' or os.path.isfile(name):
        return
    if '\n' in name or name.lstrip().startswith('{'):
        # az replaced "@file" by the file's content before the command ran (all of it, in memory).
        raise FileOperationError('--input was given the content of a file, not its name.',
                                 recommendation='Give the file name without @ (--input requests.jsonl), or - for '
                                                'stdin: the file is then read as a stream.')
    raise FileOperationError('--input %s: no such file.' % name,
                             recommendation='Give a file of JSON requests, one per line, or - for stdin.')


def open_input(name):
    """The input as binary lines (the engine decodes each, so one bad byte spoils one line, not the batch)."""
    if name == '-':
        return _Unclosed(sys.stdin.buffer)
    try:
        return open(name, 'rb')  # pylint: disable=consider-using-with
    except OSError as ex:
        raise FileOperationError('--input %s: %s.' % (name, ex.strerror or ex))


class _Unclosed:
    """stdin as a context manager that leaves it open."""

    def __init__(self, stream):
        self._stream = stream

    def __enter__(self):
        return self._stream

    def __exit__(self, *exc_info):
        return False


@dataclass
class LineSpec(CallSpec):
    """A batch line's request, and whether its api-version is devops-token's to negotiate (see _negotiate)."""
    version_base: Optional[str] = None   # None: the line gave its api-version (or the route takes none)


def prepare(organization, project, line, tables=None):
    """A batch line through `devops-rest call`'s planning rules; an az error refuses the line. The api-version
    is 7.1 unless the line gives one, or what location data known to ``tables`` says for the route."""
    from azext_devopstoken._call import Target, request_target
    from azext_devopstoken._request import encode_body, is_json_type
    headers = CaseInsensitiveDict(line.headers)
    content_type = headers.get('Content-Type')
    placeholders = {'project': project, 'organization': organization.name, 'team': None}
    url, params, _, _ = request_target(organization, Target(line.path, list(line.query), headers), placeholders)
    if line.body is None:
        body = None
    elif isinstance(line.body, str) and content_type and not is_json_type(content_type):
        body = line.body.encode('utf-8')  # text sent as it is, with its own Content-Type
    else:  # a JSON value, checked and typed as `call` does (a JSON Patch array: application/json-patch+json)
        body, content_type = encode_body(json.dumps(line.body), content_type)
    if content_type:
        headers['Content-Type'] = content_type
    spec = LineSpec(line.method, url, params, headers, body)
    if tables is not None and _negotiable(line, url, headers):
        _preselect_version(organization, spec, tables)
    return spec


def _negotiable(line, url, headers):
    from azext_devopstoken._request import has_api_version, takes_api_version
    return takes_api_version(url) and not has_api_version(line.query, headers) and \
        not re.search(r'[?&]api-version=', line.path, re.I)


def _preselect_version(organization, spec, tables):
    """The version location data already known says for this route (no request); 7.1 otherwise."""
    from azext_devopstoken import _versions
    from azext_devopstoken._call import version_base_of
    from azext_devopstoken._negotiate import current_version, with_version
    spec.version_base = version_base_of(organization, spec.url, [])
    version, source = _versions.cached_choice(tables.entry(spec.version_base),
                                              _versions.sub_path_of(spec.url, spec.version_base),
                                              current_version(spec.params) or _versions.DEFAULT_API_VERSION)
    if source != 'default':
        spec.params = with_version(spec.params, version)


def send(client, spec, tables=None):
    """``(status, headers, body)`` of the answer, any status; RequestFailed when there is no usable one. A
    line whose api-version devops-token chose is sent again with another one if the service refuses it."""
    from azext_devopstoken import _errors
    from azext_devopstoken._batch import RequestFailed
    from azext_devopstoken._http import GaveUp, MAX_REDIRECTS
    from azext_devopstoken._negotiate import VersionedSender
    sender = client.send_any
    if tables is not None and getattr(spec, 'version_base', None):
        sender = VersionedSender(client, tables.cache, spec.version_base, True, raw=client.send_any,
                                 tables=tables).send_any
    try:
        response = _held(client, spec, sender)
    except GaveUp as ex:
        raise RequestFailed(str(_errors.devops_unreachable(ex.cause, ex.attempts)))
    with response:
        body = response_body(response)
        if response.status_code == 401:
            token = client.tokens.token if client.tokens else None
            raise RequestFailed(str(_errors.unauthorized_error(response, token, client.organization.url)),
                                status=401, body=body, kind='auth')
        if _errors.is_sign_in_page(response):  # the page itself is not kept: it is HTML meant for a browser
            raise RequestFailed(str(_errors.sign_in_page_error(client.organization.url)),
                                status=response.status_code, kind='auth')
        if response.is_redirect:
            raise RequestFailed('Azure DevOps redirected more than %d times; last Location: %s'
                                % (MAX_REDIRECTS, response.headers.get('Location')), status=response.status_code)
        return response.status_code, response.headers, body


def _held(client, spec, sender):
    """The answer with its body read in bounded memory (decompressed at most 256 MiB, inflated a bit at a time on
    every urllib3, a cut-off body asked again for idempotent methods), as `call` reads a JSON answer."""
    from azext_devopstoken._pages import fetch
    response, content = fetch(client, spec.method, spec.url, spec.params, spec.headers, spec.body,
                              lambda answer: not answer._content_consumed,  # pylint: disable=protected-access
                              send=sender)
    if content is not None:  # else an api-version refusal check already read it (a 400's small error body)
        response._content, response._content_consumed = content, True  # pylint: disable=protected-access
    return response


def response_body(response):
    """Parsed JSON when the answer says JSON (text when it does not parse), text otherwise, None when empty."""
    from azext_devopstoken._output import is_json
    if not response.content:
        return None
    if is_json(response):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def finish(summary):
    """None when every line succeeded (the results are on stdout); else the az error for the summary."""
    from azure.cli.core.azclierror import AzureResponseError, ManualInterrupt
    if summary.exit_code == 0:
        return None
    if summary.stopped == 'output':
        # stdout is closed (e.g. `| head`): keep Python's exit-time flush from printing a BrokenPipeError.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if summary.stopped == 'interrupted':
        raise ManualInterrupt(summary.describe())
    raise AzureResponseError(summary.describe())
