"""Helpers of the emulated Azure DevOps tests (tests/emulator/devops): HTTPS requests to the emulator with
tokens it minted, and the checks of the service's error body."""
import hashlib

import requests

from emulator.constants import AZ_CLI_CLIENT_ID, AZURE_DEVOPS_RESOURCE
from emulator.directory import TENANT_A

ERROR_KEYS = ["$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"]


V = "7.1"


PREVIEW = "7.1-preview.1"
PROJECTS = "/contoso/_apis/projects?$top=1&api-version=7.1"
ARTIFACT = "/contoso/Website/_apis/build/builds/%d/artifacts?artifactName=drop&$format=zip&api-version=7.1"


def session(emu):
    s = requests.Session()
    s.trust_env = False          # REQUESTS_CA_BUNDLE in the environment would beat s.verify
    s.verify = emu.ca_bundle
    return s


def token_for(emu, who="alice", tenant=TENANT_A, lifetime=3600, audience=AZURE_DEVOPS_RESOURCE):
    principal = emu.directory.principal(who)
    claims = {"oid": principal.oid(tenant), "name": principal.display_name}
    if principal.kind == "user":
        claims.update(upn=principal.upn, unique_name=principal.upn, idtyp="user", appid=AZ_CLI_CLIENT_ID)
    else:
        claims.update(appid=principal.app_id, idtyp="app")
    return emu.tokens.issue(claims, audience, tenant, lifetime)


def call(emu, method, path, token=None, listener="devops", headers=None, sess=None, **kwargs):
    """``path`` starts with the organization: ``/contoso/_apis/...``."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Bearer " + token
    url = emu.urls[listener] + path
    return (sess or session(emu)).request(method, url, headers=all_headers, timeout=30, **kwargs)


def get(emu, path, token=None, **kwargs):
    return call(emu, "GET", path, token, **kwargs)


def assert_error(response, status, type_key, message=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["$id"] == "1" and body["innerException"] is None and body["errorCode"] == 0
    assert body["typeKey"] == type_key
    assert body["typeName"].startswith("Microsoft.") or body["typeName"].startswith("System.")
    assert body["typeName"].split(",")[0].endswith("." + type_key)
    if message is not None:
        assert body["message"] == message
    return body


def www_authenticate(response):
    return response.raw.headers.getlist("WWW-Authenticate")


def download(emu, token, path, **kwargs):
    digest, size = hashlib.sha256(), 0
    with get(emu, path, token=token, stream=True, **kwargs) as response:
        assert response.status_code == 200, response.text
        for chunk in response.iter_content(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        return response, size, digest.hexdigest()
