import argparse

from knack.arguments import CLIArgumentType

TENANT_HELP = ('Tenant ID or domain to get the token from, instead of the tenant of the current subscription. '
               'Use it when the Azure DevOps organization belongs to another tenant. Not available for managed '
               'identity or Cloud Shell accounts; cannot be combined with --subscription.')


class _GivenOnce(argparse.Action):  # pylint: disable=too-few-public-methods
    """argparse keeps the last of repeated options; for options that decide what is sent, a repeat is more
    likely a mistake than an override, so it is a usage error (exit code 2)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault('_devops_token_given', set())
        if self.dest in seen:
            parser.error('%s was given more than once; give it once.' % option_string)
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


def load_arguments(loader, _):
    from azure.cli.core.commands.parameters import get_enum_type
    from azext_devopstoken._org import SERVICE_HOSTS
    from azext_devopstoken._options import SHARED_WITH_BATCH
    from azext_devopstoken._request import METHODS

    tenant_type = CLIArgumentType(options_list=['--tenant', '-t'], help=TENANT_HELP)
    organization_type = CLIArgumentType(
        options_list=['--organization', '--org'], configured_default='devops_organization',
        help='Organization name (contoso) or URL (https://dev.azure.com/contoso, https://contoso.visualstudio.com, '
             'or an Azure DevOps Server collection URL). Default: `az config set defaults.devops_organization=...`.')

    with loader.argument_context('devops-token get') as c:
        c.argument('tenant', tenant_type)
        c.argument('organization', organization_type,
                   help='Get the token from the tenant this organization belongs to (asked once without '
                        'credentials, then cached for a day) instead of the current subscription\'s tenant. '
                        'Name or URL. Default: `az config set defaults.devops_organization=...`.')

    with loader.argument_context('devops-token whoami') as c:
        c.argument('tenant', tenant_type)
        c.argument('organization', organization_type)

    # The options `call` and `batch` share (_options.SHARED_WITH_BATCH), declared once.
    shared = {
        'organization': CLIArgumentType(
            options_list=['--organization', '--org'], configured_default='devops_organization',
            help='Organization name (contoso) or URL (https://dev.azure.com/contoso, https://contoso.visualstudio.com, '
                 'or an Azure DevOps Server collection URL). Default: `az config set '
                 'defaults.devops_organization=...`, else the azure-devops extension\'s `az devops configure '
                 '--defaults organization=...`.'),
        'project': CLIArgumentType(
            options_list=['--project', '-p'], configured_default='devops_project',
            help='Project name or ID for {project} in --path (batch: in each line\'s path). Default: `az config set '
                 'defaults.devops_project=...`, else the azure-devops extension\'s default project.'),
        'tenant': tenant_type,
        'timeout': CLIArgumentType(
            options_list=['--timeout'], type=float,
            help='Seconds to wait for a connection and for each read. Default: 15 to connect, 120 to read. Each '
                 'request must also finish within twice connect plus read (at least 10 s); a streamed body must '
                 'keep moving (64 KiB per that time).'),
        'max_retries': CLIArgumentType(options_list=['--max-retries'], type=int,
                                       help='Retries for throttling (429), 502/503/504 and failed connections.'),
        'max_retry_wait': CLIArgumentType(options_list=['--max-retry-wait'], type=float,
                                          help='Most seconds to spend waiting between retries, in total for the '
                                               'command. Certificate and host-name failures are never retried.'),
    }

    with loader.argument_context('devops-rest call') as c:
        for name in SHARED_WITH_BATCH:
            c.argument(name, shared[name])
        c.argument('path', options_list=['--path'], action=_GivenOnce,
                   help='Path relative to the organization, e.g. _apis/projects or {project}/_apis/wit/wiql; a '
                        'query string may follow. {organization}, {project} and {team} are replaced. A full https '
                        'URL is accepted only on the organization\'s own hosts; a URL copied from the REST '
                        'reference (https://dev.azure.com/{organization}/...) goes to the organization of --org.')
        c.argument('method', options_list=['--method', '-m'], arg_type=get_enum_type(METHODS),
                   help='HTTP method. Default: GET, or POST when a body is given (--body, -f/-F, --patch or '
                        '--input), as in gh api; updating a work item with --patch needs -m PATCH.')
        c.argument('team', options_list=['--team'],
                   help='Team name or ID for {team} in --path, e.g. {project}/{team}/_apis/work/teamsettings. '
                        'No default: the azure-devops extension keeps defaults only for organization and project.')
        c.argument('service', options_list=['--service'], arg_type=get_enum_type(SERVICE_HOSTS),
                   help='Send the call to this service host of the organization instead of the main one, '
                        'e.g. vssps for Graph (https://vssps.dev.azure.com/{org}) or vsrm for Release.')
        c.argument('api_version', options_list=['--api-version'], action=_GivenOnce,
                   help='api-version to send as given, e.g. 7.1 or 7.1-preview.1; a refusal names the version '
                        'to use. Without it devops-token sends 7.1 and, when the route is preview-only or the '
                        'server older (Azure DevOps Server), retries once with the version the host\'s API '
                        'locations (OPTIONS _apis, cached 12 hours) or the refusal name. Not added for _odata '
                        'and _git paths, or when --path, --query-parameters or an Accept header carries one.')
        c.argument('query_parameters', options_list=['--query-parameters'], nargs='+',
                   help='Space-separated query parameters as name=value, URL-encoded for you, e.g. $top=5.')
        c.argument('headers', options_list=['--headers'], nargs='+',
                   help='Space-separated request headers as name=value (or "Name: value"); @file reads one header '
                        'per line (# comments allowed). An Authorization header is sent as is, and then no token is '
                        'fetched. Values must be printable Latin-1; Host, Content-Length and the like are refused.')
        c.argument('body', options_list=['--body', '-b'], action=_GivenOnce,
                   help='Request body: JSON text, @file or @- for stdin. JSON is checked before sending; a JSON '
                        'Patch array is sent as application/json-patch+json. az reads @file as text (binary files '
                        'become base64): send binary files, such as attachments, with --input.')
        c.argument('fields', options_list=['--field', '-f'], action='append',
                   help='Add a string field to a JSON body, as key=value; repeat it. Nested keys as a[b][c]=v, '
                        'arrays as tags[]=x (gh api rules). Makes the default method POST.')
        c.argument('typed_fields', options_list=['--typed-field', '-F'], action='append',
                   help='Add a typed field, as key=value: true, false, null and numbers become JSON values, '
                        '@file the text of a file (az reads it), anything else a string. Nesting as --field.')
        c.argument('patch', options_list=['--patch'], action='append',
                   help='Add a JSON Patch "add" operation: PATH=VALUE with a string value, PATH:=JSON with a JSON '
                        'value; repeat it. The body is the array, sent as application/json-patch+json (work items: '
                        '--patch /fields/System.Title=Title). Makes the default method POST.')
        c.argument('input_file', options_list=['--input'], action=_GivenOnce,
                   help='Send this file, or - for standard input, byte for byte as the body (binary-safe, '
                        'streamed; give the path without @). Content-Type: --content-type, default '
                        'application/octet-stream.')
        c.argument('content_type', options_list=['--content-type'], action=_GivenOnce,
                   help='Content-Type of the body. Default: application/json, or application/json-patch+json for '
                        'a JSON Patch array (--patch or --body); application/octet-stream for --input. Other types '
                        'send --body unchanged.')
        c.argument('include', options_list=['--include', '-i'], action='store_true',
                   help='Write the status line and response headers to stderr (credentials redacted), each page\'s '
                        'with --paginate; stdout keeps only the body.')
        c.argument('output_file', options_list=['--output-file'], action=_GivenOnce,
                   help='Stream the response body into this file (any size, constant memory); the file appears '
                        'only once the whole body has arrived.')
        c.argument('paginate', options_list=['--paginate'], action='store_true',
                   help='Follow continuation tokens (x-ms-continuationtoken header, or continuationToken/nextLink in '
                        'the body) and merge all pages into one result of the same shape.')
        c.argument('max_items', options_list=['--max-items'], type=int,
                   help='With --paginate: stop after this many items.')
        c.argument('max_pages', options_list=['--max-pages'], type=int,
                   help='With --paginate: stop after this many pages (with a warning that more remain). Paging also '
                        'stops, with a warning, on a repeated continuation token or 20 pages in a row without items.')
        c.argument('parallel', options_list=['--parallel'], type=int,
                   help='With --paginate: pages in flight at once (1-32; default 1), on as many kept-alive '
                        'connections, for lists paged by $top/$skip (pull requests, ...) or by a continuation token '
                        'that counts the items fetched (projects). Pages are merged in order and the result is the '
                        'same as one page at a time; other lists are paged one at a time. Throttling (429, '
                        'Retry-After) holds every page.')
        c.argument('dry_run', options_list=['--dry-run'], action='store_true',
                   help='Print the request that would be sent (method, full URL, headers with the token '
                        'redacted, body, and the tenant the token would come from) and send nothing.')

    with loader.argument_context('devops-rest batch') as c:
        for name in SHARED_WITH_BATCH:
            c.argument(name, shared[name])
        c.argument('input', options_list=['--input'],
                   help='File of requests, one JSON object per line, or - for stdin; read as a stream. Give the '
                        'file name itself (not @file: az would read the whole file into memory first).')
        c.argument('parallel', options_list=['--parallel'], type=int,
                   help='Requests in flight at once (1-32); also the number of kept-alive connections.')
        c.argument('stop_on_error', options_list=['--stop-on-error'], action='store_true',
                   help='Stop at the first failed line: requests already in flight finish and are written, the '
                        'lines after them are not sent.')
