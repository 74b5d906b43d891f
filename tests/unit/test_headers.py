"""-i/--include: status line and headers for stderr, credentials redacted, control characters removed."""
from requests.structures import CaseInsensitiveDict

from azext_devopstoken import _headers

JWT = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJl"


def test_status_line_and_headers_in_server_order():
    headers = CaseInsensitiveDict([("Content-Type", "application/json"), ("x-ms-continuationtoken", "abc"),
                                   ("ETag", '"7"'), ("X-RateLimit-Remaining", "99")])
    assert _headers.format_response_head(200, "OK", headers, 11) == (
        'HTTP/1.1 200 OK\nContent-Type: application/json\nx-ms-continuationtoken: abc\nETag: "7"\n'
        'X-RateLimit-Remaining: 99\n\n')
    assert _headers.format_response_head(204, "", [], "HTTP/2") == "HTTP/2 204\n\n"
    assert _headers.format_response_head(404, "Not Found", [], 10).startswith("HTTP/1.0 404 Not Found\n")


def test_secret_headers_are_redacted_by_name_in_any_case():
    text = _headers.format_response_head(200, "OK", [
        ("authorization", "Bearer " + JWT), ("Proxy-Authorization", "x"), ("COOKIE", "a=b"),
        ("Set-Cookie", "session=s3cr3t; HttpOnly")], 11)
    assert "s3cr3t" not in text and JWT not in text and "a=b" not in text
    assert text.count("<redacted>") == 4


def test_credentials_are_redacted_by_their_look_under_any_name():
    for value in ("Bearer " + JWT, "bearer abc.def-ghi", "Basic OmFiY2RlZg==", "Negotiate YIIabc", JWT,
                  "token=" + JWT + "; path=/"):
        assert _headers.redacted_value("X-Echo", value) == "<redacted>", value


def test_challenges_and_ordinary_values_are_kept():
    keep = ["Bearer authorization_uri=https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47",
            'Basic realm="https://dev.azure.com/"', "72f988bf-86f1-41af-91ab-2d7cd011db47", "application/json",
            "Bearer", "3600"]
    for value in keep:
        assert _headers.redacted_value("WWW-Authenticate", value) == value


def test_control_characters_cannot_reach_the_terminal():
    text = _headers.format_response_head(200, "OK\x1b[2J", [("X-Evil\r\nSet-Cookie", "a\x1b]0;title\x07b\rc"),
                                                            ("X-Bidi", "abc\u202edef")], 11)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u202e" not in text
    assert text.splitlines() == ["HTTP/1.1 200 OK[2J", "X-EvilSet-Cookie: a]0;titlebc", "X-Bidi: abcdef", ""]


def test_response_head_of_a_requests_response():
    import requests
    response = requests.Response()
    response.status_code, response.reason = 201, "Created"
    response.headers = CaseInsensitiveDict({"Location": "https://dev.azure.com/contoso/_apis/x/1"})

    class Raw:
        version = 11
    response.raw = Raw()
    assert _headers.response_head(response) == (
        "HTTP/1.1 201 Created\nLocation: https://dev.azure.com/contoso/_apis/x/1\n\n")
