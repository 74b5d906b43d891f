"""Who exists in the emulated world: tenants, identities, subscriptions and Azure DevOps organizations.

Fixed identifiers, so tests and the README demo can name them. Secrets (the service principal's
client secret and certificate, the managed identity header) are made fresh for each emulator and
written, with the identifiers, to ``identities.json`` (mode 0600) in the emulator's workdir, so a
harness in another process (the README demo) can log in as any identity.
"""
import dataclasses
import datetime
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Re-exported: tests/unit/test_call.py (on another branch's watch) imports AZURE_DEVOPS_RESOURCE from here.
from emulator.constants import AZURE_DEVOPS_RESOURCE, MSA_TENANT  # noqa: F401  pylint: disable=unused-import

TENANT_A = "72f988bf-0000-4a00-9a00-00000000000a"   # contoso.example: home of most identities
TENANT_B = "f8cdef31-0000-4b00-9b00-00000000000b"   # fabrikam.example: alice is a guest here, bob's home
SUB_A = "11111111-aaaa-4aaa-8aaa-000000000001"
SUB_B = "22222222-bbbb-4bbb-8bbb-000000000002"


# The one audience a federated identity credential may name (entra-docs
# docs/workload-id/includes/federated-credential-configuration-considerations.md: "must be api://AzureADTokenExchange").
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_APP = "ci-fed"   # the app registration that trusts the emulated CI systems' issuers


@dataclass
class FederatedCredential:
    """A federated identity credential of an app registration (Graph ``federatedIdentityCredential``:
    https://learn.microsoft.com/graph/api/resources/federatedidentitycredential): a token whose ``iss``, ``sub``
    and ``aud`` equal these, compared case-sensitively and without wildcards, stands in for a client secret."""
    name: str
    issuer: str
    subject: str
    audiences: List[str] = field(default_factory=lambda: [TOKEN_EXCHANGE_AUDIENCE])


@dataclass
class Principal:
    """A user, service principal or managed identity. ``oids`` maps tenant -> object id there."""
    key: str                  # short name used by tests: alice, ci-bot, ci-cert, mi-system, mi-user
    kind: str                 # user | servicePrincipal | managedIdentity
    home_tenant: str
    oids: Dict[str, str]
    display_name: str
    upn: Optional[str] = None          # users
    app_id: Optional[str] = None       # service principals and managed identities (client id)
    secret: Optional[str] = None       # service principal client secret
    cert_path: Optional[str] = None    # PEM with private key + certificate, for `az login --certificate`
    cert_thumbprint: Optional[str] = None
    resource_id: Optional[str] = None  # user-assigned managed identity ARM id
    password: Optional[str] = None     # users (device-code login needs none; kept for completeness)
    federated_credentials: List[FederatedCredential] = field(default_factory=list)  # app registrations

    @property
    def tenants(self):
        return list(self.oids)

    def oid(self, tenant):
        return self.oids.get(tenant)


@dataclass
class Organization:
    name: str
    tenant: str                       # MSA_TENANT for a Microsoft-account organization
    member_oids: set = field(default_factory=set)
    project_count: int = 260


@dataclass
class Subscription:
    id: str
    tenant: str
    name: str


class Directory:
    def __init__(self, workdir):
        self.workdir = workdir
        self.identity_header = secrets.token_hex(16)
        cert_path, thumbprint = _make_certificate(os.path.join(workdir, "sp-cert.pem"))
        self.tenants = {TENANT_A: "contoso.example", TENANT_B: "fabrikam.example"}
        self.tenant_names = {TENANT_A: "Contoso", TENANT_B: "Fabrikam"}
        self.principals = {p.key: p for p in [
            Principal("alice", "user", TENANT_A,
                      {TENANT_A: "a11ce000-0000-4000-8000-0000000000a1",
                       TENANT_B: "a11ce000-0000-4000-8000-0000000000b1"},
                      "Alice Smith", upn="alice@contoso.example", password="P@ssw0rd-alice"),
            # A member of fabrikam only: every request of his for contoso must be refused.
            Principal("bob", "user", TENANT_B, {TENANT_B: "b0b00000-0000-4000-8000-0000000000b2"},
                      "Bob Jones", upn="bob@fabrikam.example", password="P@ssw0rd-bob"),
            Principal("ci-bot", "servicePrincipal", TENANT_A, {TENANT_A: "5e7b1c00-0000-4000-8000-000000000001"},
                      "ci-bot", app_id="c1b0c1b0-0000-4000-8000-000000000001", secret=secrets.token_urlsafe(24)),
            Principal("ci-cert", "servicePrincipal", TENANT_A, {TENANT_A: "5e7b1c00-0000-4000-8000-000000000002"},
                      "ci-cert", app_id="c1b0c1b0-0000-4000-8000-000000000002", cert_path=cert_path,
                      cert_thumbprint=thumbprint),
            # No secret, no certificate: only federated credentials (added by Directory.trust_issuer once the
            # emulated CI systems' issuers have their loopback URLs).
            Principal(FEDERATED_APP, "servicePrincipal", TENANT_A, {TENANT_A: "5e7b1c00-0000-4000-8000-000000000003"},
                      "ci-fed", app_id="c1b0c1b0-0000-4000-8000-000000000003"),
            # resource_id of a system-assigned identity is the resource it belongs to (tokens carry it as xms_mirid)
            Principal("mi-system", "managedIdentity", TENANT_A, {TENANT_A: "3a1d0000-0000-4000-8000-000000000001"},
                      "vm-build-agent", app_id="3a1dc11e-0000-4000-8000-000000000001",
                      resource_id=f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/"
                                  "Microsoft.Compute/virtualMachines/vm-build-agent"),
            Principal("mi-user", "managedIdentity", TENANT_A, {TENANT_A: "3a1d0000-0000-4000-8000-000000000002"},
                      "uami-deployer", app_id="3a1dc11e-0000-4000-8000-000000000002",
                      resource_id=f"/subscriptions/{SUB_A}/resourceGroups/rg/providers/"
                                  "Microsoft.ManagedIdentity/userAssignedIdentities/uami-deployer"),
        ]}
        everyone_in_a = {p.oid(TENANT_A) for p in self.principals.values() if p.oid(TENANT_A)}
        self.organizations = {o.name: o for o in [
            Organization("contoso", TENANT_A, set(everyone_in_a)),
            Organization("fabrikam", TENANT_B, {self.principals["alice"].oid(TENANT_B)}),
            Organization("northwind", TENANT_A, set()),       # nobody added: TF400813 / TF401444
            Organization("msa-org", MSA_TENANT, set()),       # backed by Microsoft accounts
            # The benchmarks' paging figure: 10,000 projects, 100 pages of the default $top=100.
            Organization("bigorg", TENANT_A, set(everyone_in_a), project_count=10000),
        ]}
        self.subscriptions = [Subscription(SUB_A, TENANT_A, "Contoso Dev"),
                              Subscription(SUB_B, TENANT_B, "Fabrikam Prod")]
        self.identities_file = os.path.join(workdir, "identities.json")
        self.write_identities(self.identities_file)

    def principal(self, key):
        return self.principals[key]

    def export(self):
        """Tenants, subscriptions and every principal with its secrets, as JSON-able data."""
        return {
            "tenants": dict(self.tenants), "tenant_names": dict(self.tenant_names),
            "subscriptions": [dataclasses.asdict(s) for s in self.subscriptions],
            "principals": {key: dataclasses.asdict(p) for key, p in self.principals.items()},
            "identity_header": self.identity_header,
        }

    def write_identities(self, path):
        """Write :meth:`export` to ``path``, readable by its owner only (it holds secrets)."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.export(), handle, indent=2)

    def trust_issuer(self, key, name, issuer, subject):
        """Add a federated identity credential to an app registration, and rewrite identities.json."""
        self.principals[key].federated_credentials.append(FederatedCredential(name, issuer, subject))
        self.write_identities(self.identities_file)

    def by_oid(self, oid):
        for principal in self.principals.values():
            if oid in principal.oids.values():
                return principal
        return None

    def by_app_id(self, app_id):
        for principal in self.principals.values():
            if principal.app_id and principal.app_id == app_id:
                return principal
        return None

    def by_upn(self, upn):
        for principal in self.principals.values():
            if principal.upn and principal.upn.lower() == (upn or "").lower():
                return principal
        return None


def _make_certificate(path):
    """A self-signed certificate + key in one PEM, as `az login --service-principal --certificate` takes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ci-cert")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    with open(path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o600)
    return path, cert.fingerprint(hashes.SHA1()).hex().upper()
