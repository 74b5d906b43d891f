def load_command_table(loader, _):
    with loader.command_group('devops-token') as group:
        group.custom_command('get', 'get_token')

    with loader.command_group('devops-rest') as group:
        group.custom_command('call', 'rest_call')
