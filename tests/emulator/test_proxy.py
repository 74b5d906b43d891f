"""The emulator's loopback proxy (emulator.proxy): the only way out for the az the harness runs. It tunnels only to
what the emulator plays (login.microsoftonline.com's instance discovery, for MSAL < 1.21) and refuses - and
records - every other destination, so nothing ever leaves the machine."""
import contextlib
import os
import socket

import pytest
import requests

from emulator.proxy import PROXY_LISTENER


def _through_proxy(emulator, url, **params):
    with requests.Session() as session:
        session.trust_env = False  # only the proxy given here
        return session.get(url, params=params, verify=emulator.ca_bundle, timeout=30,
                           proxies={"https": emulator.proxy_url, "http": emulator.proxy_url})


def _proxy_entries(emulator, host):
    return [e for e in emulator.log.entries(listener=PROXY_LISTENER) if e["host"] == host]


@pytest.mark.parametrize("url, target", [
    ("https://example.com/", "example.com:443"),
    ("https://login.microsoftonline.com:8443/", "login.microsoftonline.com:8443"),  # the emulated host, other port
    ("http://example.com/plain", "http://example.com/plain"),
])
def test_an_unexpected_destination_is_refused_and_logged(emulator, url, target):
    before = len(_proxy_entries(emulator, target))
    with pytest.raises(requests.exceptions.ProxyError) if url.startswith("https") else contextlib.nullcontext():
        response = _through_proxy(emulator, url)
        assert response.status_code == 403 and "refused" in response.text
    entries = _proxy_entries(emulator, target)
    assert len(entries) == before + 1 and entries[-1]["status"] == 403


def test_instance_discovery_is_answered_on_loopback_for_the_emulated_authority(emulator):
    # What msal 1.20 (az 2.45) sends: the authority's port dropped (msal/authority.py).
    response = _through_proxy(emulator, "https://login.microsoftonline.com/common/discovery/instance",
                              **{"api-version": "1.0",
                                 "authorization_endpoint": "https://127.0.0.1/contoso.example/oauth2/v2.0/authorize"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tenant_discovery_endpoint"] == \
        emulator.login_url + "/contoso.example/v2.0/.well-known/openid-configuration"
    assert {"login.microsoftonline.com", "login.windows.net"} <= set(body["metadata"][0]["aliases"])
    assert _proxy_entries(emulator, "login.microsoftonline.com:443")[-1]["status"] == 200


def test_instance_discovery_refuses_an_unknown_instance(emulator):
    response = _through_proxy(emulator, "https://login.microsoftonline.com/common/discovery/instance",
                              **{"api-version": "1.1",
                                 "authorization_endpoint": "https://login.evil.example/common/oauth2/v2.0/authorize"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_instance" and "AADSTS50049" in response.json()["error_description"]


def test_a_request_head_beyond_the_limit_is_dropped(emulator):
    before = len(emulator.log.entries(listener=PROXY_LISTENER))
    port = int(emulator.proxy_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nX-Filler: " + b"a" * 70_000 + b"\r\n\r\n")
        except OSError:
            pass  # the proxy may hang up while we are still sending
        sock.settimeout(30)
        try:
            assert sock.recv(100) == b""  # closed without an answer
        except ConnectionResetError:
            pass
    assert len(emulator.log.entries(listener=PROXY_LISTENER)) == before


def test_az_is_routed_through_the_proxy_and_its_version_check_refused(az_env_factory, emulator):
    """az looks for newer releases online on its first run in a config dir; the proxy refuses and records it."""
    env = az_env_factory()
    os.remove(os.path.join(env.config_dir, "versionCheck.json"))  # as in a config dir az has never run in
    before = len(emulator.log.entries(listener=PROXY_LISTENER))
    env.az("version", "--output", "none", check=True)
    refused = emulator.log.entries(listener=PROXY_LISTENER)[before:]
    assert refused and all(e["status"] == 403 and e["method"] == "CONNECT" for e in refused)
    assert {e["host"] for e in refused} & {"azure.microsoft.com:443", "azcliprod.blob.core.windows.net:443"}
