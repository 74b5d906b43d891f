"""Which credential a call sends when the user gave no Authorization header (the credential rule of issues 9
and 10): the Microsoft Entra token for Azure DevOps Services hosts and hosts trusted by name; for any other host
(an Azure DevOps Server collection, which does not accept Entra tokens) the personal access token in
``AZURE_DEVOPS_EXT_PAT``, sent as Basic with an empty user name as the azure-devops CLI extension does
(``azext_devops/dev/common/services.py _get_credentials``: ``BasicAuthentication('', pat)``; msrest's
``BasicAuthentication`` → ``HTTPBasicAuth``). That extension reads the variable for Services only; using it
for Server collections is this extension's reading of it.

Which hosts get the Entra token (Services hosts and hosts trusted by name) is ``_trust``'s rule; the refusal when
neither applies is ``_call.check_credential_destination``.
"""
import base64
import os

PAT_ENV_VAR = 'AZURE_DEVOPS_EXT_PAT'


def basic_pat(pat):
    """``Basic base64(":" + pat)``: a PAT with an empty user name."""
    return 'Basic ' + base64.b64encode((':' + pat).encode('utf-8')).decode('ascii')


def environment_pat(cli_ctx, organization):
    """The PAT to send to ``organization``, or None when it gets the Entra token (Services or trusted host) or no
    PAT is set."""
    pat = (os.environ.get(PAT_ENV_VAR) or '').strip()
    from azext_devopstoken._trust import may_receive_token
    if not pat or organization.kind != 'server' or may_receive_token(cli_ctx, organization.url):
        return None
    return pat


class PatSource:
    """Stands where :class:`~azext_devopstoken._client.TokenSource` does, with a PAT: nothing to fetch, refresh
    or re-target."""
    token = None

    def __init__(self, pat):
        self._authorization = basic_pat(pat)

    def __repr__(self):
        return 'PatSource(<redacted>)'

    def authorization(self):
        return self._authorization

    @staticmethod
    def expired():
        return False

    def forget(self):
        """Nothing cached."""

    @staticmethod
    def retarget(_response):
        return False
