"""The one request body of `devops-rest call`: --body, the -f/-F fields, --patch or --input, and its Content-Type.

The default method follows gh api (cli/cli pkg/cmd/api/api.go: "POST" when parameters or --input are given,
else "GET"), for every body source alike: a GET with a body is never what Azure DevOps wants, and the one-line
work item (`--patch ... --path '{project}/_apis/wit/workitems/$Task'`) is a POST. Updating a work item needs
`-m PATCH`, as its REST route says.
"""
import json

from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_devopstoken._fields import (JSON_PATCH_CONTENT_TYPE, build_fields, build_patch_document,
                                       check_one_body_source)
from azext_devopstoken._input import DEFAULT_INPUT_CONTENT_TYPE, open_input


def default_method(options):
    """--method as given, else POST when a body is given, else GET."""
    return options.method or ('POST' if options.has_body else 'GET')


def request_body(options, content_type, stdin=None):
    """(body, content type): bytes for JSON and --body, an open :class:`InputBody` for --input (the caller
    closes it), or (None, content_type) without a body. ``content_type``: --content-type or a Content-Type
    header. Every mistake is a usage error naming the flag, found before anything is sent."""
    from azext_devopstoken._request import encode_body
    check_one_body_source(options.body, options.fields, options.typed_fields, options.patch, options.input_file)
    if options.fields or options.typed_fields:
        document = build_fields(options.fields, options.typed_fields, stdin=stdin)
        return _json(document, _json_type(content_type, '-f/-F fields', 'application/json'))
    if options.patch:
        document = build_patch_document(options.patch)
        return _json(document, _json_type(content_type, '--patch', JSON_PATCH_CONTENT_TYPE))
    if options.input_file:
        body = open_input(options.input_file, stdin=stdin)
        if not body.length:  # requests would send an empty stream chunked; b'' goes with Content-Length: 0
            body.close()
            body = b''
        return body, content_type or DEFAULT_INPUT_CONTENT_TYPE
    return encode_body(options.body, content_type)


def _json(document, content_type):
    return json.dumps(document, ensure_ascii=False).encode('utf-8'), content_type


def _json_type(given, flag, default):
    if not given:
        return default
    media = given.split(';')[0].strip().lower()
    if media != 'application/json' and not media.endswith('+json'):
        raise InvalidArgumentValueError('%s build a JSON body; --content-type %s is not JSON.' % (flag, given),
                                        recommendation='Leave --content-type out, or send other content with '
                                                       '--body or --input.')
    return given
