def load_arguments(loader, _):
    with loader.argument_context('devops-token get') as c:
        c.argument('tenant', options_list=['--tenant', '-t'],
                   help='Tenant ID or domain to get the token from, instead of the tenant of the current '
                        'subscription. Use it when the Azure DevOps organization belongs to another tenant. '
                        'Not available for managed identity or Cloud Shell accounts; '
                        'cannot be combined with --subscription.')
