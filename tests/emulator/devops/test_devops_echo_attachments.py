"""The test-only echo endpoint (emulator/devops/areas/echo.py) and work-item attachments (areas/wit.py)."""
import hashlib
import json

from devops_support import assert_error, call


def test_echo_reports_what_it_received(devops_emu, alice):
    body = bytes(range(256)) * 3
    response = call(devops_emu, "PUT", "/contoso/Website/Core%20Team/_apis/_emulator/echo?x=1&api-version=7.1",
                    token=alice, headers={"Content-Type": "application/octet-stream"}, data=body)
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["method"] == "PUT" and echoed["project"] == "Website" and echoed["team"] == "Core Team"
    assert echoed["length"] == 768 and echoed["sha256"] == hashlib.sha256(body).hexdigest()
    assert echoed["contentType"] == "application/octet-stream" and echoed["isJson"] is False
    assert echoed["query"] == {"x": ["1"]} and echoed["contentLength"] == "768"


def test_echo_parses_json_and_needs_a_token(devops_emu, alice):
    response = call(devops_emu, "POST", "/contoso/_apis/_emulator/echo?api-version=7.1", token=alice,
                    json={"a": [1, True]})
    assert response.json()["json"] == {"a": [1, True]} and response.json()["isJson"] is True
    anonymous = call(devops_emu, "POST", "/contoso/_apis/_emulator/echo?api-version=7.1", json={},
                     headers={"X-TFS-FedAuthRedirect": "Suppress"})
    assert anonymous.status_code == 401


def test_attachment_upload_and_download_byte_for_byte(devops_emu, alice):
    data = bytes((i * 7) % 256 for i in range(3000))
    created = call(devops_emu, "POST", "/contoso/Website/_apis/wit/attachments?fileName=a%20b.bin&api-version=7.1",
                   token=alice, headers={"Content-Type": "application/octet-stream"}, data=data)
    assert created.status_code == 200, created.text
    reference = created.json()
    assert set(reference) == {"id", "url"} and reference["url"].endswith("?fileName=a%20b.bin")
    fetched = call(devops_emu, "GET", "/contoso/Website/_apis/wit/attachments/%s?api-version=7.1" % reference["id"],
                   token=alice)
    assert fetched.status_code == 200 and fetched.content == data
    missing = call(devops_emu, "GET", "/contoso/Website/_apis/wit/attachments/%s?api-version=7.1"
                   % "00000000-0000-0000-0000-000000000000", token=alice)
    assert missing.status_code == 404


def test_attachment_needs_octet_stream(devops_emu, alice):
    response = call(devops_emu, "POST", "/contoso/Website/_apis/wit/attachments?fileName=x&api-version=7.1",
                    token=alice, data=json.dumps({"a": 1}), headers={"Content-Type": "application/json"})
    assert_error(response, 415, "VssRequestContentTypeNotSupportedException",
                 'The request indicated a Content-Type of "application/json" for method type "POST" which is not '
                 'supported. Valid content types for this method are: application/octet-stream.')
