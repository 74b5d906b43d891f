"""The whole emulator in one place: its listeners, the services that play them, and its lifetime limits.

This is the only module that imports the services; services import the plumbing (:mod:`emulator.server`)
and the shared identifiers (:mod:`emulator.constants`), never this module. Every server stops by itself:
after ``max_seconds`` or ``max_requests``, or when its owner calls :meth:`Emulator.stop`.
"""
import os
import threading

from emulator.arm import ArmService
from emulator.constants import DEVOPS_HOSTS, SERVER_HOST
from emulator.devops.service import DevOpsService
from emulator.directory import Directory
from emulator.entra.ci_oidc import CiOidcService
from emulator.entra.service import EntraService
from emulator.other import OtherHostService
from emulator.proxy import LoopbackProxy
from emulator.server import HOST, Listener, RequestLog, StopsByItself, tls_context
from emulator.tokens import TokenIssuer

OTHER_HOST = "localhost"   # the "other" listener answers on another host name, for containment tests
# Destinations outside loopback that the emulator plays, behind its proxy: MSAL < 1.21 asks the public cloud's
# instance discovery about any other authority (msal/authority.py, WORLD_WIDE), and the login listener answers it.
PROXIED_HOSTS = {"login.microsoftonline.com:443": "login"}


class Emulator(StopsByItself):
    """Starts the listeners and services; stops by itself after ``max_seconds`` or ``max_requests``."""

    def __init__(self, workdir, max_seconds=900, max_requests=200_000, token_lifetime=3600):
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.token_lifetime = token_lifetime
        self.log = RequestLog()
        self.directory = Directory(self.workdir)
        self.tokens = TokenIssuer()
        self.services = {}
        self.urls = {}
        self.ca_bundle = os.path.join(self.workdir, "emulator-ca.pem")
        self._servers = []
        self.proxy = None
        self._stopped = threading.Event()
        self.stop_reason = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self):
        context = tls_context(self.ca_bundle)
        devops = DevOpsService(self)  # one instance plays every Azure DevOps host
        services = {"login": EntraService(self), "arm": ArmService(self), "other": OtherHostService(self),
                    "oidc": CiOidcService(self)}
        services.update((name, devops) for name in DEVOPS_HOSTS + (SERVER_HOST,))
        for name in services:
            server = Listener(self, name, context)
            self._servers.append(server)
            host = OTHER_HOST if name == "other" else HOST
            self.urls[name] = "https://%s:%d" % (host, server.server_address[1])
        self.services = services
        services["oidc"].bind(self.urls["oidc"])
        self.proxy = LoopbackProxy(self, {target: self._port(name) for target, name in PROXIED_HOSTS.items()})
        self.urls["proxy"] = self.proxy.url
        self._servers.append(self.proxy)
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                             name="emulator-" + getattr(server, "listener", "proxy"), daemon=True).start()
        timer = threading.Timer(self.max_seconds, self.stop_soon, args=("lifetime of %ss over" % self.max_seconds,))
        timer.daemon = True
        timer.start()
        return self

    def _port(self, listener):
        return next(server.server_address[1] for server in self._servers if server.listener == listener)

    def _close(self):
        for server in self._servers:
            server.shutdown()
            server.server_close()

    # -- addresses -----------------------------------------------------------------------------
    @property
    def login_url(self):
        """The Entra authority host (tenants below it), also the managed identity endpoint."""
        return self.urls["login"]

    @property
    def arm_url(self):
        return self.urls["arm"] + "/"

    @property
    def devops_url(self):
        """Organization URLs are ``devops_url + "/" + org``."""
        return self.urls["devops"]

    @property
    def other_url(self):
        """A host that is no organization's: any Authorization header reaching it is a leak."""
        return self.urls["other"]

    @property
    def proxy_url(self):
        """The loopback proxy az is pointed at (HTTPS_PROXY): it tunnels only to destinations emulated here."""
        return self.urls["proxy"]

    def org_url(self, org):
        return "%s/%s" % (self.devops_url, org)

    @property
    def server_url(self):
        """The Azure DevOps Server collection URL (``https://server/DefaultCollection``)."""
        from emulator.constants import SERVER_COLLECTION
        return "%s/%s" % (self.urls[SERVER_HOST], SERVER_COLLECTION)

    def describe(self):
        """A JSON-able summary for scripts (``python -m emulator`` prints it)."""
        return {
            "ca_bundle": self.ca_bundle, "urls": dict(self.urls), "login_url": self.login_url,
            "arm_url": self.arm_url, "devops_url": self.devops_url, "proxy_url": self.proxy_url,
            "identity_endpoint": self.services["login"].identity_endpoint if self.services else None,
            "identity_header": self.directory.identity_header, "pid": os.getpid(),
            # AZURE_POD_IDENTITY_AUTHORITY_HOST: IMDS is served by the login listener
            "imds_host": self.login_url if self.services else None,
            "ci_jobs": {ci: self.services["oidc"].job_environment(ci) for ci in ("github", "pipelines")}
            if self.services else None,
            "msi_endpoint": self.services["login"].msi_endpoint if self.services else None,
        }
