"""Command handlers: thin functions that return data for knack to print."""


def get_token(cmd, tenant=None, organization=None):
    from azext_devopstoken._auth import get_access_token, get_organization_token
    if not organization:
        return get_access_token(cmd.cli_ctx, tenant=tenant).as_get_access_token_output()
    from azext_devopstoken._http import Transport
    from azext_devopstoken._org import parse_organization
    org = parse_organization(organization)
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


def rest_call(cmd, path, method='GET', organization=None, project=None, service=None, api_version=None,
              query_parameters=None, headers=None, body=None, content_type=None, output_file=None, paginate=False,
              max_items=None, tenant=None, timeout=None, max_retries=4, max_retry_wait=120, dry_run=False):
    # pylint: disable=too-many-locals
    from azure.cli.core.commands.transform import unregister_global_transforms
    from azext_devopstoken._call import CallArgs, execute, plan
    from azext_devopstoken._client import DevOpsClient, TokenSource
    from azext_devopstoken._http import RetryPolicy, Transport
    # Like `az rest`: the result is the service's JSON, so az's resource-group/x509 transforms must not touch it.
    unregister_global_transforms(cmd.cli_ctx)
    args = CallArgs(path=path, method=method, organization=organization, project=project, service=service,
                    api_version=api_version, query_parameters=query_parameters, headers=headers, body=body,
                    content_type=content_type, output_file=output_file, paginate=paginate, max_items=max_items,
                    tenant=tenant, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait,
                    dry_run=dry_run)
    if dry_run:
        from azext_devopstoken._call import describe
        return describe(cmd.cli_ctx, args, plan(cmd.cli_ctx, args, None))
    transport = Transport(timeout=(timeout, timeout) if timeout else (15.0, 120.0),
                          policy=RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait))
    with transport:
        the_plan = plan(cmd.cli_ctx, args, transport)
        tokens = None if the_plan.spec.user_authorization else TokenSource(
            cmd.cli_ctx, the_plan.organization, transport, tenant=tenant)
        client = DevOpsClient(the_plan.organization, tokens, transport, the_plan.extra_bases)
        return execute(cmd.cli_ctx, args, the_plan, client)
