# --------------------------------------------------------------------------------------------
# devops-token: Azure DevOps REST with the Microsoft Entra login that `az login` already holds.
# Only the command loader lives here: az imports this module whenever it loads the command table,
# so everything heavier is imported inside the command functions.
# --------------------------------------------------------------------------------------------
from azure.cli.core import AzCommandsLoader

from azext_devopstoken._help import helps  # noqa: F401  pylint: disable=unused-import


class DevOpsTokenCommandsLoader(AzCommandsLoader):

    def __init__(self, cli_ctx=None):
        from azure.cli.core.commands import CliCommandType
        custom_type = CliCommandType(operations_tmpl='azext_devopstoken.custom#{}')
        super().__init__(cli_ctx=cli_ctx, custom_command_type=custom_type)

    def load_command_table(self, args):
        from azext_devopstoken.commands import load_command_table
        load_command_table(self, args)
        return self.command_table

    def load_arguments(self, command):
        from azext_devopstoken._params import load_arguments
        load_arguments(self, command)


COMMAND_LOADER_CLS = DevOpsTokenCommandsLoader
