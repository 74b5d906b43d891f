"""Faults and test controls of the emulated Azure DevOps (emulator/devops/faults.py, controls.py), in Python and over
HTTP."""
import time

import pytest
import requests

from devops_support import ARTIFACT, assert_error, call, download, get, PROJECTS, session
from emulator.constants import DEVOPS_HOSTS
from emulator.devops.artifacts import DEFAULT_ARTIFACT_SIZE
from emulator.directory import TENANT_A


def test_throttle_fault(devops_emu, service, alice):
    service.add_fault("throttle", path=r"/_apis/projects", retry_after=3)
    throttled = get(devops_emu, PROJECTS, token=alice)
    assert_error(throttled, 429, "RequestBlockedException",
                 "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource "
                 "'Core' in namespace 'User'.")
    headers = throttled.headers
    assert headers["Retry-After"] == "3" and headers["X-RateLimit-Resource"] == "Core"
    assert headers["X-RateLimit-Remaining"] == "0" and float(headers["X-RateLimit-Delay"]) > 0
    assert int(headers["X-RateLimit-Limit"]) > 0 and int(headers["X-RateLimit-Reset"]) > time.time()
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200     # count=1: consumed


@pytest.mark.parametrize("kind, status", [("unavailable", 503), ("bad_gateway", 502), ("gateway_timeout", 504)])
def test_server_error_faults(devops_emu, service, alice, kind, status):
    service.add_fault(kind, path="projects", count=2)
    assert [get(devops_emu, PROJECTS, token=alice).status_code for _ in range(3)] == [status, status, 200]


def test_unavailable_with_retry_after_and_host_offline(devops_emu, service, alice):
    service.add_fault("unavailable", path="projects", retry_after=5, host_offline=True)
    response = get(devops_emu, PROJECTS, token=alice)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5" and "X-VSS-HostOfflineError" in response.headers


def test_reset_fault_cuts_the_body(devops_emu, service, alice):
    service.set_artifact_size(4 << 20)
    service.add_fault("reset", path="/artifacts", after_bytes=100000)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        download(devops_emu, alice, ARTIFACT % 7)
    _, size, _ = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 4 << 20


def test_stall_fault_and_latency(devops_emu, service, alice):
    service.add_fault("stall", path="projects", seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session(devops_emu).get(devops_emu.devops_url + PROJECTS, headers={"Authorization": "Bearer " + alice},
                                timeout=0.5)
    service.set_latency(300)
    started = time.monotonic()
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_redirect_fault(devops_emu, service, alice):
    service.add_fault("redirect", path="projects", location=devops_emu.other_url + "/steal")
    response = get(devops_emu, PROJECTS, token=alice, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == devops_emu.other_url + "/steal"


def test_fault_method_filter_and_unlimited_count(devops_emu, service, alice):
    service.add_fault("bad_gateway", path="/wit/wiql", method="POST", count=None)
    wiql = "/contoso/Website/_apis/wit/wiql?api-version=7.1"
    for _ in range(3):
        assert call(devops_emu, "POST", wiql, token=alice, json={"query": "SELECT [System.Id] FROM workitems"}
                    ).status_code == 502
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200
    assert len(service.list_faults()) == 1
    assert service.clear_faults() == 1


def test_bad_fault_specs(service):
    with pytest.raises(ValueError):
        service.add_fault("meteor")
    with pytest.raises(ValueError):
        service.add_fault("redirect")
    with pytest.raises(ValueError):
        service.add_fault("throttle", seconds=3)


def test_http_control_api(devops_emu, alice):
    sess, base = session(devops_emu), devops_emu.devops_url + "/_emulator"
    added = sess.post(base + "/faults", json={"kind": "throttle", "path": "projects", "count": 1, "retry_after": 2})
    assert added.status_code == 201 and added.json()["kind"] == "throttle"
    assert [f["retry_after"] for f in sess.get(base + "/faults").json()["faults"]] == [2]
    assert get(devops_emu, PROJECTS, token=alice).status_code == 429
    sess.post(base + "/faults", json={"kind": "gateway_timeout", "path": "projects"})
    assert sess.delete(base + "/faults").json() == {"cleared": 1}
    assert sess.put(base + "/latency", json={"ms": 0}).json()["latency_ms"] == 0
    assert sess.put(base + "/artifact", json={"size": 12345}).json()["artifact_size"] == 12345
    _, size, _ = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 12345
    oid = devops_emu.directory.principal("alice").oid(TENANT_A)
    assert sess.post(base + "/members", json={"org": "northwind", "oid": oid}).status_code == 201
    assert get(devops_emu, "/northwind/_apis/projects?$top=1&api-version=7.1", token=alice).status_code == 200
    assert sess.delete(base + "/members", json={"org": "northwind", "oid": oid}).status_code == 200
    assert sess.post(base + "/faults", json={"kind": "meteor"}).status_code == 400
    assert sess.post(base + "/faults", data=b"not json").status_code == 400
    assert sess.get(base + "/nothing").status_code == 404
    state = sess.post(base + "/reset").json()
    assert state["faults"] == [] and state["artifact_size"] == DEFAULT_ARTIFACT_SIZE
    assert set(state["urls"]) == set(DEVOPS_HOSTS)
