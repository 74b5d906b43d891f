"""Drive the real ``az`` against the emulator, in a throwaway config dir.

Used by the tests, the README demo and the benchmarks::

    env = AzEnv(emulator, config_dir)        # an Emulator, or the dict of Emulator.describe()
    env.register_cloud()
    env.login_service_principal("ci-bot")
    token = env.get_access_token(AZURE_DEVOPS_RESOURCE)

``az`` runs with an environment stripped of the caller's Azure settings and pinned to the emulator: its
own AZURE_CONFIG_DIR (the user's ~/.azure is never read or written), the emulator's CA, every setting
that would otherwise make it reach the internet turned off, and HTTPS_PROXY/HTTP_PROXY pointing at the emulator's
loopback proxy (:mod:`emulator.proxy`), which refuses and records any destination the emulator does not play.

Any az from 2.45.0 on: the one to run is ``az=``, else DEVOPS_TOKEN_TEST_AZ (set by ``AZ_VERSION=X scripts/test``),
else the az of this Python's venv. Its version (``az version``, asked once per executable) picks the login
options and the managed identity protocol it understands.
"""
import json
import os
import shutil
import subprocess
import sys

from emulator.constants import DEVOPS_HOSTS
from emulator.entra.common import NEXT_DEVICE_CODE_USER_PATH

# Inherited variables that would change what az or MSAL does (credentials, managed identity endpoints,
# Cloud Shell, cloud metadata from the internet, regional token endpoints).
DROPPED_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_")
DROPPED_NAMES = ("ARM_CLOUD_METADATA_URL", "ACC_CLOUD", "AZUREPS_HOST_ENVIRONMENT", "IMDS_ENDPOINT",
                 "MSAL_FORCE_REGION", "REGION_NAME", "CODESPACES")
# A real CI job's OIDC request variables would send the extension's renewal to GitHub / Azure DevOps.
DROPPED_CI_NAMES = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_OIDCREQUESTURI",
                    "SYSTEM_ACCESSTOKEN", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "AZURESUBSCRIPTION_CLIENT_ID",
                    "AZURESUBSCRIPTION_TENANT_ID")
AZ_SETTINGS = {
    "AZURE_CORE_INSTANCE_DISCOVERY": "false",      # else MSAL asks login.microsoftonline.com about the authority
    "AZURE_CORE_COLLECT_TELEMETRY": "false",       # else a telemetry upload process starts after each command
    "AZURE_CORE_SURVEY_MESSAGE": "false",
    "AZURE_CORE_ERROR_RECOMMENDATION": "off",      # else a failed command asks app.aladdin.microsoft.com for advice
    "AZURE_CORE_NO_COLOR": "true",
    "AZURE_CORE_LOGIN_EXPERIENCE_V2": "false",     # no interactive subscription picker after login
    "AZURE_CORE_OUTPUT": "json",
    "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",   # else an unknown command fetches the extension index online
}
LOOPBACK_HOSTS = "127.0.0.1,localhost"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy")
AZ_UNDER_TEST = "DEVOPS_TOKEN_TEST_AZ"  # scripts/test sets it for AZ_VERSION=X: the az executable to run
# From which az release an option or protocol exists (older releases get the older form):
CERTIFICATE_OPTION = (2, 67, 0)   # `az login --certificate`; before: `--password <pem path>` (issue 14)
MI_ID_OPTIONS = (2, 69, 0)        # `--client-id/--object-id/--resource-id` (Azure/azure-cli#30525); before: --username
MSAL_MANAGED_IDENTITY = (2, 73, 0)  # MSAL's IDENTITY_ENDPOINT protocols (Azure/azure-cli#25959); before: msrestazure,
#                                     whose MSI_ENDPOINT is a POST (az <= 2.72, issue 14)
_VERSIONS = {}                    # az executable -> its azure-cli version tuple
USER_ASSIGNED_IDENTITY = "mi-user"
REDACTED_OPTIONS = ("--password", "-p", "--federated-token")


TRUSTED_HOSTS_VARIABLE = "AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS"  # az config devops_token.trusted_hosts


def trusted_devops_hosts(urls):
    """The emulated Azure DevOps hosts (127.0.0.1:port each) as a trusted_hosts value: they are not Azure DevOps
    Services hosts, so the extension sends them the token only when trusted by name, as a user would."""
    from urllib.parse import urlsplit
    return " ".join(sorted({urlsplit(urls[name]).netloc for name in DEVOPS_HOSTS if name in urls}))


class AzCommandError(RuntimeError):
    """``az`` failed where success was required; the message carries its exit code, stdout and stderr."""

    def __init__(self, args, result):
        shown = []
        for index, arg in enumerate(args):
            if index and args[index - 1] in REDACTED_OPTIONS:
                arg = "***"
            elif arg.split("=", 1)[0] in REDACTED_OPTIONS and "=" in arg:
                arg = arg.split("=", 1)[0] + "=***"
            shown.append(arg)
        super().__init__(f"az {' '.join(shown)} exited with {result.returncode}\n"
                         f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")
        self.result = result


class AzEnv:
    """One az configuration (config dir + environment) talking to one emulator."""

    def __init__(self, emulator, config_dir, extension_dir=None, az=None):
        self.emulator = None if isinstance(emulator, dict) else emulator
        self.info = dict(emulator) if isinstance(emulator, dict) else emulator.describe()
        # The CA bundle lives in the emulator's workdir, next to identities.json.
        self.info.setdefault("workdir", os.path.dirname(self.info["ca_bundle"]))
        self.config_dir = os.path.abspath(config_dir)
        os.makedirs(self.config_dir, exist_ok=True)
        self.extension_dir = os.path.abspath(extension_dir) if extension_dir else None
        self.az_path = az or os.environ.get(AZ_UNDER_TEST) or os.path.join(os.path.dirname(sys.executable), "az")
        self.cloud_name = None
        self._identities = None
        self.env = self._environment()

    def _environment(self):
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(DROPPED_PREFIXES) and name not in DROPPED_NAMES + DROPPED_CI_NAMES}
        env.update(AZ_SETTINGS)
        env["AZURE_CONFIG_DIR"] = self.config_dir
        if self.extension_dir:
            env["AZURE_EXTENSION_DIR"] = self.extension_dir
        env["REQUESTS_CA_BUNDLE"] = self.info["ca_bundle"]
        env[TRUSTED_HOSTS_VARIABLE] = trusted_devops_hosts(self.info["urls"])
        # Everything that is not loopback goes to the emulator's proxy, which refuses (and records) what it does
        # not emulate: az's own version check, MSAL < 1.21's instance discovery (answered by the emulator).
        for name in PROXY_VARIABLES:
            env.pop(name, None)
        if self.info.get("proxy_url"):
            env.update({"HTTPS_PROXY": self.info["proxy_url"], "HTTP_PROXY": self.info["proxy_url"],
                        "https_proxy": self.info["proxy_url"], "http_proxy": self.info["proxy_url"]})
        for name in ("NO_PROXY", "no_proxy"):
            env[name] = LOOPBACK_HOSTS
        return env

    @property
    def version(self):
        """The azure-cli version of the az this env runs, as a tuple of ints (``az version``, once per az)."""
        if self.az_path not in _VERSIONS:
            release = json.loads(self.az("version", "--output", "json", check=True).stdout)["azure-cli"]
            _VERSIONS[self.az_path] = tuple(int(part) for part in release.split(".")[:3])
        return _VERSIONS[self.az_path]

    # -- running az ----------------------------------------------------------------------------
    def az(self, *args, input=None, check=False, env=None, timeout=180):  # pylint: disable=redefined-builtin
        """Run ``az *args``; text mode, stdout and stderr captured, no terminal on stdin."""
        run_env = dict(self.env)
        run_env.update(env or {})
        result = subprocess.run([self.az_path, *args], input=input,
                                stdin=subprocess.DEVNULL if input is None else None,
                                capture_output=True, text=True, env=run_env, timeout=timeout,
                                cwd=self.config_dir, check=False)
        if check and result.returncode != 0:
            raise AzCommandError(list(args), result)
        return result

    def az_json(self, *args, **kwargs):
        """Run ``az *args --output json``, which must succeed, and return the parsed output (None if empty)."""
        result = self.az(*args, "--output", "json", check=True, **kwargs)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def get_access_token(self, resource, tenant=None, subscription=None):
        """`az account get-access-token` output (accessToken, expires_on, tenant, subscription…)."""
        args = ["account", "get-access-token", "--resource", resource]
        args += ["--tenant", tenant] if tenant else []
        args += ["--subscription", subscription] if subscription else []
        return self.az_json(*args)

    # -- set-up --------------------------------------------------------------------------------
    def register_cloud(self, name="AzureEmulator"):
        """Register the emulator as a cloud from its ARM metadata endpoint, and make it the active cloud."""
        self.az("cloud", "register", "--name", name, "--endpoint-resource-manager", self.info["urls"]["arm"],
                check=True)
        self.az("cloud", "set", "--name", name, check=True)
        self.cloud_name = name

    def copy(self, config_dir):
        """A new AzEnv whose config dir starts as a copy of this one (cloud, logins and all)."""
        shutil.copytree(self.config_dir, config_dir)
        clone = AzEnv(self.emulator or self.info, config_dir, self.extension_dir, self.az_path)
        clone.cloud_name = self.cloud_name
        clone.env = dict(self.env, AZURE_CONFIG_DIR=clone.config_dir)
        return clone

    def identity(self, key):
        """A principal of the emulator's directory as a dict (app_id, oids, secret, cert_path, …)."""
        if self._identities is None:
            if self.emulator is not None:
                self._identities = self.emulator.directory.export()
            else:
                with open(os.path.join(self.info["workdir"], "identities.json"), encoding="utf-8") as handle:
                    self._identities = json.load(handle)
        return self._identities["principals"][key]

    # -- logins --------------------------------------------------------------------------------
    def login_service_principal(self, key="ci-bot", tenant=None):
        """Real `az login --service-principal`: with the secret of ci-bot, the certificate of ci-cert."""
        principal = self.identity(key)
        args = ["login", "--service-principal", "--username", principal["app_id"],
                "--tenant", tenant or principal["home_tenant"]]
        if principal.get("secret"):
            # One word: a secret that begins with "-" would otherwise be read by argparse as an option.
            args += ["--password=" + principal["secret"]]
        elif self.version >= CERTIFICATE_OPTION:
            args += ["--certificate", principal["cert_path"]]
        else:
            args += ["--password=" + principal["cert_path"]]  # older az: a PEM path given as the password
        return self.az_json(*args)

    def login_managed_identity(self, user_assigned=False, by="client_id"):
        """Real `az login --identity`; the MI variables stay in self.env (:meth:`use_identity_endpoint`)."""
        self.use_identity_endpoint()
        return self.az_json("login", "--identity", *self._identity_selector(user_assigned, by))

    def use_identity_endpoint(self, endpoint=None):
        """Point az's managed identity at the emulator (or at ``endpoint``), in the protocol this az speaks: the
        App Service one (IDENTITY_ENDPOINT + IDENTITY_HEADER) from 2.73, MSI_ENDPOINT's POST before.
        Returns the name of the variable that holds the endpoint."""
        variable = self.identity_endpoint_variable
        if variable == "IDENTITY_ENDPOINT":
            self.env["IDENTITY_HEADER"] = self.info["identity_header"]
        default = self.info["identity_endpoint"] if variable == "IDENTITY_ENDPOINT" else self.info["msi_endpoint"]
        self.env[variable] = endpoint or default
        return variable

    @property
    def identity_endpoint_variable(self):
        """The variable naming the managed identity endpoint for this az: IDENTITY_ENDPOINT or MSI_ENDPOINT."""
        return "IDENTITY_ENDPOINT" if self.version >= MSAL_MANAGED_IDENTITY else "MSI_ENDPOINT"

    def ci_job_environment(self, ci):
        """The OIDC request variables a job of ``ci`` (github | pipelines) sees, pointing at the emulator."""
        return dict(self.info["ci_jobs"][ci])

    def fetch_ci_assertion(self, ci):
        """A fresh federated assertion from the emulated CI system, fetched as azure/login (GitHub) or AzureCLI@2
        (Azure Pipelines) do before `az login --federated-token`."""
        import requests  # comes with azure-cli
        job = self.ci_job_environment(ci)
        if ci == "github":
            response = requests.get(job["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=api%3A%2F%2FAzureADTokenExchange",
                                    headers={"Authorization": "Bearer " + job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]},
                                    verify=self.info["ca_bundle"], timeout=30)
            response.raise_for_status()
            return response.json()["value"]
        response = requests.post(job["SYSTEM_OIDCREQUESTURI"] + "?api-version=7.1&serviceConnectionId="
                                 + job["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
                                 headers={"Authorization": "Bearer " + job["SYSTEM_ACCESSTOKEN"],
                                          "X-TFS-FedAuthRedirect": "Suppress"},
                                 verify=self.info["ca_bundle"], timeout=30)
        response.raise_for_status()
        return response.json()["oidcToken"]

    def login_federated(self, ci="github", key="ci-fed", assertion=None, allow_no_subscriptions=False):
        """Real `az login --service-principal -u APP --tenant T --federated-token JWT`, with an assertion from the
        emulated CI system (or the one given)."""
        principal = self.identity(key)
        token = assertion or self.fetch_ci_assertion(ci)
        args = ["login", "--service-principal", "--username", principal["app_id"],
                "--tenant", principal["home_tenant"], "--federated-token", token]
        args += ["--allow-no-subscriptions"] if allow_no_subscriptions else []
        return self.az_json(*args)

    def login_managed_identity_imds(self, user_assigned=False, by="client_id"):
        """Real `az login --identity` through IMDS (a VM's managed identity), which MSAL finds at
        AZURE_POD_IDENTITY_AUTHORITY_HOST; the variable stays in self.env for later commands."""
        self.env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = self.info["imds_host"]
        return self.az_json("login", "--identity", *self._identity_selector(user_assigned, by))

    def _identity_selector(self, user_assigned, by):
        """`--client-id X` (or --object-id / --resource-id; `--username X` before az 2.69) naming the user-assigned
        identity; nothing for the system-assigned one."""
        if not user_assigned:
            return []
        principal = self.identity(USER_ASSIGNED_IDENTITY)
        value = {"client_id": principal["app_id"], "object_id": principal["oids"][principal["home_tenant"]],
                 "resource_id": principal["resource_id"]}[by]
        return ["--" + by.replace("_", "-") if self.version >= MI_ID_OPTIONS else "--username", value]

    def login_user(self, key="alice", tenant=None):
        """Real `az login --use-device-code`; the emulator approves the code as this user."""
        principal = self.identity(key)
        self._sign_in_next_device_code(principal)
        args = ["login", "--use-device-code"] + (["--tenant", tenant] if tenant else [])
        return self.az_json(*args)

    def _sign_in_next_device_code(self, principal):
        if self.emulator is not None:
            self.emulator.services["login"].sign_in_next_device_code(principal["key"])
            return
        import requests  # comes with azure-cli; only needed for an emulator in another process
        response = requests.post(self.info["login_url"] + NEXT_DEVICE_CODE_USER_PATH, timeout=30,
                                 data={"username": principal["upn"], "password": principal["password"]},
                                 verify=self.info["ca_bundle"])
        response.raise_for_status()
