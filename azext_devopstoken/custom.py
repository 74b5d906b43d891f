"""Command handlers: thin functions that return data for knack to print."""


def get_token(cmd, tenant=None, organization=None):
    from azext_devopstoken._auth import get_access_token, get_organization_token
    if not organization:
        return get_access_token(cmd.cli_ctx, tenant=tenant).as_get_access_token_output()
    from azext_devopstoken._http import Transport
    from azext_devopstoken._org import parse_organization
    org = parse_organization(organization)
    transport = Transport()
    try:
        return get_organization_token(cmd.cli_ctx, org, transport, tenant=tenant).as_get_access_token_output()
    finally:
        transport.close()


def rest_call(cmd, path, method='GET', organization=None, project=None, service=None, api_version=None,
              query_parameters=None, headers=None, body=None, content_type=None, output_file=None, paginate=False,
              max_items=None, tenant=None, timeout=None, max_retries=4, max_retry_wait=120):
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
                    tenant=tenant, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait)
    transport = Transport(timeout=(timeout, timeout) if timeout else (15.0, 120.0),
                          policy=RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait))
    try:
        the_plan = plan(cmd.cli_ctx, args, transport)
        tokens = None if the_plan.spec.user_authorization else TokenSource(
            cmd.cli_ctx, tenant=tenant, organization=the_plan.organization, transport=transport)
        client = DevOpsClient(the_plan.organization, tokens, transport, the_plan.extra_bases)
        return execute(cmd.cli_ctx, args, the_plan, client)
    finally:
        transport.close()
