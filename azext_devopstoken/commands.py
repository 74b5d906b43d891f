def load_command_table(loader, _):
    with loader.command_group('devops-token') as group:
        group.custom_command('get', 'get_token')
