"""The options of `az devops-rest call` (and the subset `az devops-rest batch` shares), declared once.

knack builds a command's arguments (names, defaults, which are required) from its handler's signature, so the
handler's signature is made from :class:`CallOptions` (:func:`handler_signature`) and the handler fills a
``CallOptions`` from what knack passes. Help and option spellings stay in ``_params.py``.
"""
import dataclasses
import inspect
from typing import List, Optional


@dataclasses.dataclass
class CallOptions:  # pylint: disable=too-many-instance-attributes
    """The command's options, as the user gave them (validated later, by ``_call.plan``)."""
    path: str
    method: Optional[str] = None  # GET, or POST when a request body is given (as gh api)
    organization: Optional[str] = None
    project: Optional[str] = None
    team: Optional[str] = None
    service: Optional[str] = None
    api_version: Optional[str] = None
    query_parameters: Optional[List[str]] = None
    headers: Optional[List[str]] = None
    body: Optional[str] = None
    fields: Optional[List[str]] = None
    typed_fields: Optional[List[str]] = None
    patch: Optional[List[str]] = None
    input_file: Optional[str] = None
    content_type: Optional[str] = None
    include: bool = False
    output_file: Optional[str] = None
    paginate: bool = False
    max_items: Optional[int] = None
    max_pages: Optional[int] = None
    parallel: Optional[int] = None  # pages in flight with --paginate; None: 1 (given without --paginate: an error)
    tenant: Optional[str] = None
    timeout: Optional[float] = None
    max_retries: int = 4
    max_retry_wait: float = 120
    dry_run: bool = False

    def __post_init__(self):
        self.method = self.method.upper() if self.method else None

    @property
    def has_body(self):
        return any((self.body is not None, self.fields, self.typed_fields, self.patch, self.input_file))


MAX_PARALLEL = 32  # --parallel: requests in flight (and kept-alive connections), for `batch` and `call --paginate`


def check_parallel(parallel):
    """--parallel (of `batch`, or of `call --paginate`) within 1..MAX_PARALLEL."""
    if not 1 <= parallel <= MAX_PARALLEL:
        from azure.cli.core.azclierror import InvalidArgumentValueError
        raise InvalidArgumentValueError('--parallel must be between 1 and %d; got %s.' % (MAX_PARALLEL, parallel))


# The options `devops-rest batch` shares with `call`: the same fields (names, types, defaults), help and spellings.
SHARED_WITH_BATCH = ('organization', 'project', 'tenant', 'timeout', 'max_retries', 'max_retry_wait')


def _call_fields(names):
    return [(field.name, field.type, field.default)  # every shared default is immutable
            for field in dataclasses.fields(CallOptions) if field.name in names]


# `az devops-rest batch`'s options: --input, call's shared options (taken from CallOptions, not repeated), then
# the batch's own.
BatchOptions = dataclasses.make_dataclass('BatchOptions', [
    ('input', str),
    *_call_fields(SHARED_WITH_BATCH),
    ('parallel', int, 4),
    ('stop_on_error', bool, False),
])
BatchOptions.__doc__ = "`devops-rest batch`'s options, as the user gave them (validated by ``_batch_command``)."


def handler_signature(options_class):
    """``(cmd, <one keyword per field of options_class, with its default>)``: what knack reads from a handler
    (``inspect.signature`` honours ``__signature__``) to build the command's arguments."""
    parameters = [inspect.Parameter('cmd', inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for field in dataclasses.fields(options_class):
        default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        parameters.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return inspect.Signature(parameters)
