"""Which credential a call sends when the user gave no Authorization header (the credential rule of issues 9
and 10): the Microsoft Entra token for Azure DevOps Services hosts and hosts trusted by name; for any other host
(an Azure DevOps Server collection, which does not accept Entra tokens) the personal access token in
``AZURE_DEVOPS_EXT_PAT``, sent as Basic with an empty user name as the azure-devops CLI extension does
(``azext_devops/dev/common/services.py _get_credentials``: ``BasicAuthentication('', pat)``; msrest's
``BasicAuthentication`` → ``HTTPBasicAuth``). That extension reads the variable for Services only; using it
for Server collections is this extension's reading of it.

Hosts trusted by name: ``devops_token.trusted_hosts`` / ``AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS`` (``host[:port]``,
comma- or space-separated). The full trust rule (and the refusal when neither applies) is ``_trust`` of issue 10;
:func:`trusted_by_name` is the minimal reading this module needs until then.
"""
import base64
import os
import re

PAT_ENV_VAR = 'AZURE_DEVOPS_EXT_PAT'
TRUSTED_HOSTS_ENV_VAR = 'AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS'


def basic_pat(pat):
    """``Basic base64(":" + pat)``: a PAT with an empty user name."""
    return 'Basic ' + base64.b64encode((':' + pat).encode('utf-8')).decode('ascii')


def trusted_by_name(cli_ctx, organization):
    """True when the organization's host[:port] is listed in the trusted-hosts setting."""
    from urllib.parse import urlsplit
    listed = os.environ.get(TRUSTED_HOSTS_ENV_VAR)
    if listed is None:
        listed = cli_ctx.config.get('devops_token', 'trusted_hosts', '')
    parts = urlsplit(organization.url)
    here = {'%s:%d' % (parts.hostname, parts.port or 443)}
    if not parts.port or parts.port == 443:
        here.add(parts.hostname)
    return any(entry.lower() in here for entry in re.split(r'[\s,]+', listed or '') if entry)


def environment_pat(cli_ctx, organization):
    """The PAT to send to ``organization``, or None when it gets the Entra token (Services or trusted host) or no
    PAT is set."""
    pat = (os.environ.get(PAT_ENV_VAR) or '').strip()
    if not pat or organization.kind != 'server' or trusted_by_name(cli_ctx, organization):
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
