"""`devops-rest call`'s options are declared once, in CallOptions: knack reads them from the handler's
signature, and _params.py gives each its help."""
import dataclasses
import inspect

from azext_devopstoken import custom
from azext_devopstoken._options import CallOptions

FIELDS = [field.name for field in dataclasses.fields(CallOptions)]


def test_the_handler_signature_is_the_dataclass():
    parameters = inspect.signature(custom.rest_call).parameters
    assert list(parameters) == ["cmd"] + FIELDS and len(FIELDS) == 26
    assert parameters["path"].default is inspect.Parameter.empty  # required
    for field in dataclasses.fields(CallOptions)[1:]:
        assert parameters[field.name].default == field.default, field.name
    assert (CallOptions.method, CallOptions.max_retries, CallOptions.max_retry_wait) == (None, 4, 120)


def test_knack_builds_every_option_with_its_default():
    from knack.introspection import extract_args_from_signature
    arguments = dict(extract_args_from_signature(custom.rest_call, excluded_params=["cmd"]))
    assert list(arguments) == FIELDS
    settings = {name: argument.type.settings for name, argument in arguments.items()}
    assert settings["path"]["required"] is True
    assert settings["method"]["default"] is None and settings["max_retries"]["default"] == 4
    assert settings["max_retry_wait"]["default"] == 120
    assert settings["paginate"]["action"] == "store_true" and settings["dry_run"]["action"] == "store_true"


def test_params_gives_help_to_exactly_these_options():
    from azure.cli.core import get_default_cli
    from azext_devopstoken import DevOpsTokenCommandsLoader
    loader = DevOpsTokenCommandsLoader(cli_ctx=get_default_cli())
    loader.skip_applicability = True
    loader.load_command_table(None)
    loader.command_name = "devops-rest call"
    loader.load_arguments("devops-rest call")
    assert sorted(loader.argument_registry.arguments["devops-rest call"]) == sorted(FIELDS)


def test_help_shows_the_defaults(az):
    result = az("devops-rest", "call", "-h")
    assert result.exit_code == 0, result
    text = " ".join(result.stdout.split())
    assert "Default: GET, or POST when a body is given" in text and "Default: 4." in text and "Default: 120." in text


def test_the_method_is_upper_case():
    assert CallOptions(path="_apis/projects", method="patch").method == "PATCH"


def test_a_body_makes_the_default_method_post():
    from azext_devopstoken._body import default_method
    assert default_method(CallOptions(path="p")) == "GET"
    for body in ({"fields": ["a=b"]}, {"typed_fields": ["n=1"]}, {"patch": ["/a=b"]}, {"input_file": "-"},
                 {"body": "{}"}):
        assert default_method(CallOptions(path="p", **body)) == "POST", body
    assert default_method(CallOptions(path="p", method="patch", patch=["/a=b"])) == "PATCH"


def test_batch_takes_calls_shared_options_from_call_options():
    from azext_devopstoken._options import SHARED_WITH_BATCH, BatchOptions
    call_fields = {field.name: field for field in dataclasses.fields(CallOptions)}
    batch_fields = [field.name for field in dataclasses.fields(BatchOptions)]
    assert batch_fields == ["input", *SHARED_WITH_BATCH, "parallel", "stop_on_error"]
    for name in SHARED_WITH_BATCH:
        batch_field = next(f for f in dataclasses.fields(BatchOptions) if f.name == name)
        assert (batch_field.type, batch_field.default) == (call_fields[name].type, call_fields[name].default)
    parameters = inspect.signature(custom.rest_batch).parameters
    assert list(parameters) == ["cmd"] + batch_fields and parameters["input"].default is inspect.Parameter.empty
    assert parameters["parallel"].default == 4


def test_batch_options_get_calls_help_and_spellings():
    from azure.cli.core import get_default_cli
    from azext_devopstoken import DevOpsTokenCommandsLoader
    from azext_devopstoken._options import SHARED_WITH_BATCH, BatchOptions
    loader = DevOpsTokenCommandsLoader(cli_ctx=get_default_cli())
    loader.skip_applicability = True
    loader.load_command_table(None)
    registered = {}
    for command in ("devops-rest call", "devops-rest batch"):
        loader.command_name = command
        loader.load_arguments(command)
        registered[command] = loader.argument_registry.arguments[command]
    assert sorted(registered["devops-rest batch"]) == sorted(f.name for f in dataclasses.fields(BatchOptions))
    for name in SHARED_WITH_BATCH:
        call, batch = registered["devops-rest call"][name].settings, registered["devops-rest batch"][name].settings
        assert (call["options_list"], call["help"]) == (batch["options_list"], batch["help"]), name
