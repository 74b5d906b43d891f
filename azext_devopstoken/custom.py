"""Command handlers: thin functions that return data for knack to print."""


def get_token(cmd, tenant=None):
    from azext_devopstoken._auth import get_access_token
    return get_access_token(cmd.cli_ctx, tenant=tenant).as_get_access_token_output()
