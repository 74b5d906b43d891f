def load_command_table(loader, _):
    from azext_devopstoken._table import count_value_rows
    with loader.command_group('devops-token') as group:
        group.custom_command('get', 'get_token')
        group.custom_command('whoami', 'whoami')

    with loader.command_group('devops-token git-credential') as group:
        group.custom_command('get', 'git_credential_get')
        group.custom_command('store', 'git_credential_store')
        group.custom_command('erase', 'git_credential_erase')

    with loader.command_group('devops-rest') as group:
        group.custom_command('call', 'rest_call', table_transformer=count_value_rows)
        group.custom_command('batch', 'rest_batch')
