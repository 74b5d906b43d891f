"""Graph (vssps host), releases (vsrm host) and the audit log of the emulated Azure DevOps
(emulator/devops/areas/graph.py, release.py, audit.py)."""
from urllib.parse import quote

from devops_support import get, PREVIEW


def test_graph_users_on_vssps_page_through_an_empty_page(devops_emu, alice):
    seen, counts, token = [], [], None
    while True:
        query = "api-version=7.1-preview.1" + ("&continuationToken=" + quote(token) if token else "")
        response = get(devops_emu, "/contoso/_apis/graph/users?" + query, token=alice, listener="vssps")
        assert response.status_code == 200, response.text
        body = response.json()
        counts.append(body["count"])
        seen += [u["descriptor"] for u in body["value"]]
        token = response.headers.get("X-MS-ContinuationToken")
        if not token:
            break
    assert 0 in counts[:-1]                       # an empty page that was not the last
    assert len(seen) == len(set(seen)) == 181     # alice + 180 synthetic users
    alice_descriptor = get(devops_emu, "/contoso/_apis/connectionData?api-version=" + PREVIEW,
                           token=alice).json()["authenticatedUser"]["subjectDescriptor"]
    assert alice_descriptor in seen


def test_graph_is_only_on_vssps(devops_emu, alice):
    assert get(devops_emu, "/contoso/_apis/graph/users?api-version=7.1-preview.1", token=alice).status_code == 404


def test_releases_on_vsrm(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "$top=25&api-version=7.1" + ("&continuationToken=" + token if token else "")
        response = get(devops_emu, "/contoso/Website/_apis/release/releases?" + query, token=alice, listener="vsrm")
        assert response.status_code == 200, response.text
        seen += [r["id"] for r in response.json()["value"]]
        token = response.headers.get("x-ms-continuationtoken")
        if not token:
            break
    assert seen == list(range(120, 0, -1))


def test_audit_log_body_continuation(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "batchSize=200&api-version=7.1-preview.1" + ("&continuationToken=" + quote(token) if token else "")
        body = get(devops_emu, "/contoso/_apis/audit/auditlog?" + query, token=alice, listener="auditservice").json()
        seen += [e["id"] for e in body["decoratedAuditLogEntries"]]
        token = body["continuationToken"]
        if not body["hasMore"]:
            break
    assert len(seen) == len(set(seen)) == 450
