"""JSON bodies from the command line, without JSON quoting: gh api's fields and a JSON Patch shorthand.

-f/--field key=value adds a string; -F/--typed-field key=value a typed value. Keys nest as in gh api
(cli/cli pkg/cmd/api/fields.go, parseFields/addParamsMap/addParamsSlice): ``a[b][c]=v`` makes objects,
``tags[]=x`` appends to an array, ``labels[][name]=x`` builds an array of objects (a key already present in
the last object starts a new one), and a bare ``tags[]`` makes an empty array. -f fields are applied before
-F fields, each in command-line order, as gh does. A key given twice, or used both as a value and as an
object or array, is an error naming the flag and the field (gh: "unexpected override existing field").

--patch PATH=VALUE is the JSON Patch operation {"op": "add", "path": PATH, "value": "VALUE"}; --patch
PATH:=JSON takes VALUE as JSON. The path is everything before the first '=' (JSON Pointer, RFC 6901: it
starts with '/'); when the path's last character is ':', the value is JSON. So ``/fields/System.Title=a:=b``
sets the title to the string "a:=b", and a path cannot itself contain '='.

az expands ``@file`` and ``@-`` in every argument before the command runs, also after the first '=' of a
``key=@file`` argument (azure-cli-core commands/__init__.py ``_expand_file_prefixed_files``; intended:
Azure/azure-cli#1440, ``--set prop=@file``). So for a readable file the command already receives the file's
text as az decoded it (UTF-8, else UTF-16, else base64 of the bytes, trailing newlines removed), and -F types
it as if it had been typed. The reading here serves the values az leaves alone (a file it could not open)
and callers outside az: the file's bytes must be UTF-8, and are kept exactly.
"""
import json
import math
import re

from azext_devopstoken._text import printable

FIELD_FLAG = '-f/--field'
TYPED_FIELD_FLAG = '-F/--typed-field'
PATCH_FLAG = '--patch'
JSON_PATCH_CONTENT_TYPE = 'application/json-patch+json'

_KEY = re.compile(r'(?P<name>[^\[\]]+)(?P<subkeys>(?:\[[^\[\]]*\])*)\Z')
_SUBKEY = re.compile(r'\[([^\[\]]*)\]')
# RFC 8259 section 6: no leading zeros, no '+', no bare '.5' or '1.' (those stay strings, like "007").
_JSON_NUMBER = re.compile(r'-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z')
_KEYWORDS = {'true': True, 'false': False, 'null': None}


def build_fields(fields=None, typed_fields=None, stdin=None):
    """The JSON object that -f/--field and -F/--typed-field describe (a dict; empty when none are given).
    ``stdin`` is a binary stream for ``-F key=@-`` (default: sys.stdin.buffer)."""
    body = {}
    for flag, items in ((FIELD_FLAG, fields or ()), (TYPED_FIELD_FLAG, typed_fields or ())):
        for item in items:
            key, has_value, text = item.partition('=')
            segments = _key_segments(flag, key, bool(has_value))
            if not has_value:
                value = _NO_VALUE
            elif flag == TYPED_FIELD_FLAG:
                value = typed_value(text, flag, key, stdin)
            else:
                value = text
            _insert(body, segments, value, (flag, key))
    return body


def typed_value(text, flag=TYPED_FIELD_FLAG, key='', stdin=None):
    """gh's -F rules: true/false/null and JSON numbers become JSON values; @FILE and @- the text of a file or of
    stdin (a string, never typed further); anything else stays a string."""
    if text.startswith('@') and len(text) > 1:
        return _read_text(text[1:], flag, key, stdin)
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if _JSON_NUMBER.match(text):
        number = json.loads(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise _error(flag, key, 'the number %s is out of range' % text)
        return number
    return text


def reads_stdin(typed_fields):
    """Whether a -F value reads standard input (it cannot then also be the --input body)."""
    return any(item.partition('=')[2] == '@-' for item in typed_fields or ())


def parse_patch(text):
    """One --patch PATH=VALUE (string) or PATH:=JSON (raw JSON) as a JSON Patch ``add`` operation."""
    path, has_value, value = text.partition('=')
    if not has_value:
        raise _patch_error(text, "give PATH=VALUE for a string, or PATH:=JSON for a JSON value")
    raw = path.endswith(':')
    if raw:
        path = path[:-1]
    if not path.startswith('/'):
        raise _patch_error(path, "the path must start with '/', e.g. /fields/System.Title")
    if re.search(r'~(?![01])', path):
        raise _patch_error(path, "write '~' as ~0 and '/' inside a name as ~1 (JSON Pointer, RFC 6901)")
    if raw:
        value = _parse_json(value, path)
    return {'op': 'add', 'path': path, 'value': value}


def build_patch_document(patches):
    """The JSON Patch array for the --patch options, in order (sent as application/json-patch+json)."""
    return [parse_patch(text) for text in patches or ()]


def check_one_body_source(body=None, fields=None, typed_fields=None, patches=None, input_file=None):
    """A request has one body: --body, the fields (-f and -F together), --patch or --input."""
    from azure.cli.core.azclierror import MutuallyExclusiveArgumentError
    given = [name for name, value in (('--body', body), ('-f/-F fields', fields or typed_fields),
                                      (PATCH_FLAG, patches), ('--input', input_file)) if value]
    if len(given) > 1:
        raise MutuallyExclusiveArgumentError('Give only one request body: %s.' % ' or '.join(given),
                                             recommendation='Fields build a JSON object and --patch a JSON '
                                                            'Patch array; --body and --input send what you give.')


class _NoValue:  # ``tags[]`` without '=': an empty array (gh)
    pass


_NO_VALUE = _NoValue()


def _key_segments(flag, key, has_value):
    """``a[b][]`` -> ['a', 'b', '']; '' marks an array."""
    match = _KEY.match(key)
    if not match:
        raise _error(flag, key, 'write the key as name, name[key] or name[] (brackets balanced, no empty name)')
    segments = [match.group('name')] + _SUBKEY.findall(match.group('subkeys'))
    if any(a == b == '' for a, b in zip(segments, segments[1:])):
        raise _error(flag, key, 'arrays of arrays ([][]) are not supported; use --body')
    if not has_value and segments[-1] != '':
        raise _error(flag, key, 'give a value after =, as key=value (only name[] stands alone: an empty array)')
    return segments


def _insert(root, segments, value, where):
    """Put ``value`` where ``segments`` point, creating objects and arrays as gh's parseFields does;
    ``where`` is (flag, key) for errors."""
    target, is_array, subkey = root, False, None
    for segment in segments:
        if segment == '':
            is_array = True
            continue
        if subkey is not None:
            target = _array_item(target, subkey, segment, where) if is_array else _object(target, subkey, where)
            is_array = False
        subkey = segment
    if not is_array:
        if subkey in target:
            raise _error(*where, "'%s' is already %s; give each key once" % (subkey, _kind(target[subkey])))
        target[subkey] = value
        return
    existing = target.setdefault(subkey, [])
    if not isinstance(existing, list):
        raise _error(*where, "'%s' is already %s; it cannot also be an array" % (subkey, _kind(existing)))
    if value is not _NO_VALUE:
        existing.append(value)


def _object(target, key, where):
    existing = target.setdefault(key, {})
    if not isinstance(existing, dict):
        raise _error(*where, "'%s' is already %s; it cannot also be an object" % (key, _kind(existing)))
    return existing


def _array_item(target, key, next_key, where):
    """The object in array ``key`` that ``next_key`` goes into: the last one, unless it already has that key
    as a value (then a new object starts), as gh's addParamsSlice."""
    existing = target.setdefault(key, [])
    if not isinstance(existing, list):
        raise _error(*where, "'%s' is already %s; it cannot also be an array" % (key, _kind(existing)))
    last = existing[-1] if existing else None
    if isinstance(last, dict) and (next_key not in last or isinstance(last[next_key], (list, dict))):
        return last
    item = {}
    existing.append(item)
    return item


def _kind(value):
    if isinstance(value, dict):
        return 'an object'
    if isinstance(value, list):
        return 'an array'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, bool):
        return 'a boolean'
    return 'null' if value is None else 'a number'


def _read_text(path, flag, key, stdin):
    from azure.cli.core.azclierror import FileOperationError
    try:
        if path == '-':
            import sys
            data = (stdin or sys.stdin.buffer).read()
        else:
            import os
            with open(os.path.expanduser(path), 'rb') as handle:
                data = handle.read()
    except OSError as ex:
        raise FileOperationError('%s %s=@%s: cannot read the file: %s.'
                                 % (flag, _shown(key), _shown(path), ex.strerror or ex)) from None
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as ex:
        raise FileOperationError('%s %s=@%s: the file is not UTF-8 text (byte %d); send binary content with '
                                 '--input.' % (flag, _shown(key), _shown(path), ex.start)) from None


def _parse_json(text, path):
    def refuse(constant):
        raise ValueError('%s is not JSON' % constant)
    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as ex:
        raise _patch_error(path + ':=', 'the value is not valid JSON: %s at line %d column %d (character %d); '
                                        'for a string use PATH=VALUE' % (ex.msg, ex.lineno, ex.colno, ex.pos + 1)
                           ) from None
    except ValueError as ex:
        raise _patch_error(path + ':=', 'the value is not valid JSON: %s' % ex) from None


def _error(flag, key, reason):
    from azure.cli.core.azclierror import InvalidArgumentValueError
    return InvalidArgumentValueError('%s %s: %s.' % (flag, _shown(key), reason))


def _patch_error(shown, reason):
    from azure.cli.core.azclierror import InvalidArgumentValueError
    return InvalidArgumentValueError('%s %s: %s.' % (PATCH_FLAG, _shown(shown), reason))


def _shown(text):
    """A key or path for an error line: one line, bounded."""
    return printable(text, 80)
