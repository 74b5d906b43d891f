"""`az devops-rest batch`: the options checked, then the engine (``_batch.run_batch``) run with a ``prepare``
that applies `devops-rest call`'s planning rules to each line and a ``send`` that shares one token and one pool
of kept-alive connections between the workers.
"""
import json
import os
import sys

from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError
from knack.log import get_logger
from requests.structures import CaseInsensitiveDict

logger = get_logger(__name__)

MAX_PARALLEL = 32


def run(cli_ctx, options):
    """Run the batch; results go to stdout as they come. Returns None, or raises when a line failed."""
    from azext_devopstoken import _org
    from azext_devopstoken._batch import TerminalProgress, run_batch
    from azext_devopstoken._batch_gate import ThrottleGate
    from azext_devopstoken._call import check_transport_numbers, new_transport
    from azext_devopstoken._client import DevOpsClient, TokenSource
    check_options(options)
    check_transport_numbers(options)
    organization = _org.resolve_organization(cli_ctx, options.organization)
    project = _org.resolve_project(cli_ctx, options.project)
    gate = ThrottleGate(options.parallel)
    with open_input(options.input) as lines, new_transport(options) as transport:
        _share_connections(transport, options.parallel)
        # The transport retries 429/503 itself: the gate hears of them before it sleeps, to hold the others.
        transport.on_retry = lambda response: gate.observe(response.status_code, response.headers)
        tokens = TokenSource(cli_ctx, organization, transport, tenant=options.tenant)
        tokens.authorization()  # once, up front: a login problem is one ERROR, not one per line
        client = DevOpsClient(organization, tokens, transport)
        summary = run_batch(lines, lambda spec: send(client, spec), sys.stdout,
                            prepare=lambda request: prepare(organization, project, request),
                            parallel=options.parallel, stop_on_error=options.stop_on_error, gate=gate,
                            progress=TerminalProgress(cli_ctx))
    return finish(summary)


def check_options(options):
    if not 1 <= options.parallel <= MAX_PARALLEL:
        raise InvalidArgumentValueError('--parallel must be between 1 and %d; got %s.'
                                        % (MAX_PARALLEL, options.parallel))
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


def _share_connections(transport, parallel):
    """A pool of ``parallel`` kept-alive connections per host: requests' default (10) would open and drop
    connections beyond 10, and a smaller one would make the workers wait for each other. Same adapter as every
    Transport (lengths enforced, connections watched by deadlines)."""
    from azext_devopstoken._adapter import mount_adapter
    mount_adapter(transport.session, pool_connections=4, pool_maxsize=parallel)


def prepare(organization, project, line):
    """A batch line through `devops-rest call`'s planning rules; an az error refuses the line."""
    from azext_devopstoken._call import Target, request_target
    from azext_devopstoken._request import CallSpec, encode_body, is_json_type
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
    return CallSpec(line.method, url, params, headers, body)


def send(client, spec):
    """``(status, headers, body)`` of the answer, any status; RequestFailed when there is no usable one."""
    from azext_devopstoken import _errors
    from azext_devopstoken._batch import RequestFailed
    from azext_devopstoken._http import GaveUp, MAX_REDIRECTS
    try:
        response = client.send_any(spec.method, spec.url, spec.params, spec.headers, spec.body)
    except GaveUp as ex:
        raise RequestFailed(str(_errors.devops_unreachable(ex.cause, ex.attempts)))
    with response:
        body = response_body(response)
        if response.status_code == 401:
            token = client.tokens.token if client.tokens else None
            raise RequestFailed(str(_errors.unauthorized_error(response, token, client.organization.url)),
                                status=401, body=body)
        if _errors.is_sign_in_page(response):
            raise RequestFailed(str(_errors.sign_in_page_error(client.organization.url)),
                                status=response.status_code)
        if response.is_redirect:
            raise RequestFailed('Azure DevOps redirected more than %d times; last Location: %s'
                                % (MAX_REDIRECTS, response.headers.get('Location')), status=response.status_code)
        return response.status_code, response.headers, body


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
