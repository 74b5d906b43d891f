"""Command handlers: thin functions that return data for knack to print."""
from azext_devopstoken._options import BatchOptions, CallOptions, handler_signature


def get_token(cmd, tenant=None, organization=None):
    from azext_devopstoken._auth import get_access_token, get_organization_token
    if not organization:
        return get_access_token(cmd.cli_ctx, tenant=tenant).as_get_access_token_output()
    from azext_devopstoken._http import Transport
    from azext_devopstoken._org import resolve_organization
    org = resolve_organization(cmd.cli_ctx, organization)
    with Transport() as transport:
        return get_organization_token(cmd.cli_ctx, org, transport, tenant=tenant).as_get_access_token_output()


def whoami(cmd, organization=None, tenant=None):
    from azext_devopstoken._whoami import whoami as run_whoami
    return run_whoami(cmd.cli_ctx, organization=organization, tenant=tenant)


def git_credential_get(cmd):
    import sys
    from azext_devopstoken._git import answer, read_request
    answer(cmd.cli_ctx, read_request(sys.stdin))


def git_credential_store(cmd):  # pylint: disable=unused-argument
    """Nothing is stored: tokens are fetched fresh from the az login on every `get`."""
    import sys
    from azext_devopstoken._git import read_request
    read_request(sys.stdin)


git_credential_erase = git_credential_store


def rest_call(cmd, **options):
    from azext_devopstoken._call import run
    return run(cmd.cli_ctx, CallOptions(**options))


# knack reads the arguments from the signature: one keyword per CallOptions field, with its default.
rest_call.__signature__ = handler_signature(CallOptions)


def rest_batch(cmd, **options):
    from azext_devopstoken._batch_command import run
    return run(cmd.cli_ctx, BatchOptions(**options))


rest_batch.__signature__ = handler_signature(BatchOptions)
