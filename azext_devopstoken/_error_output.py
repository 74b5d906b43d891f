"""On an HTTP error whose body is JSON, that body is the command's output (stdout, through --query and -o) while
the one-line ERROR: and the exit code stay: a script can read the server's typeKey or errorCode.

knack prints a handler's result only when it returns (knack/cli.py ``CLI.invoke``), and an az error makes the
invocation fail, so the error path prints the document itself the way the invoker would have: the
EVENT_INVOKER_FILTER_RESULT event applies --query (knack/query.py ``filter_output``), then knack's
OutputProducer with the formatter of -o writes it to stdout.
"""
import sys

from knack.log import get_logger

logger = get_logger(__name__)


def attach_document(error, response):
    """``error`` with the response's JSON body as ``error.response_document`` (when it is JSON)."""
    from azext_devopstoken._output import is_json
    if is_json(response):
        try:
            error.response_document = response.json()
        except ValueError:
            pass
    return error


def show_error_document(cli_ctx, error):
    """Write ``error.response_document`` as the command's output, if the error carries one."""
    document = getattr(error, 'response_document', None)
    invocation = getattr(cli_ctx, 'invocation', None)
    if document is None or invocation is None:
        return
    from knack.events import EVENT_INVOKER_FILTER_RESULT
    from knack.util import CommandResultItem
    from azext_devopstoken._table import count_value_rows
    event_data = {'result': document}
    try:
        cli_ctx.raise_event(EVENT_INVOKER_FILTER_RESULT, event_data=event_data)
    except Exception as ex:  # pylint: disable=broad-except
        logger.debug('--query could not be applied to the error body: %s', ex)
        return  # the error line says what happened; a query failure must not replace it
    if event_data['result'] is None:
        return
    item = CommandResultItem(event_data['result'], table_transformer=count_value_rows,
                             is_query_active=invocation.data.get('query_active', False))
    output = cli_ctx.output
    # sys.stdout as az runs it (cli_ctx.out_file is bound to the sys.stdout of az's import time).
    output.out(item, formatter=output.get_formatter(invocation.data.get('output') or 'json'), out_file=sys.stdout)
