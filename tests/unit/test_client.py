"""The headers a call goes out with are built in one place, so `--dry-run` shows exactly what is sent: the same
command is run with --dry-run and then for real against a fake transport, and the two are compared."""
import json
from unittest import mock

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from azext_devopstoken._client import FIXED_HEADERS, request_headers

TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJkZXZvcHMifQ.c2lnbmF0dXJl"
TENANT = "f8cdef31-0000-4b00-9b00-00000000000b"


def test_callers_headers_win_in_any_casing_and_authorization_comes_last():
    headers = request_headers({"accept": "text/plain", "X-Custom": "1", "authorization": "Basic x"}, "Bearer t")
    assert headers["Accept"] == "text/plain" and headers["X-Custom"] == "1"
    assert headers["Authorization"] == "Bearer t"
    assert headers["User-Agent"].startswith("devops-token/")
    assert all(headers[name] == value for name, value in FIXED_HEADERS.items())
    assert headers["Accept-Encoding"] == "gzip, deflate"  # what _inflate decodes in bounded memory
    assert len(headers) == 7 and list(headers)[-1] == "Authorization"


def test_without_an_authorization_the_callers_own_is_kept():
    assert request_headers({"Authorization": "Basic x"})["authorization"] == "Basic x"
    assert "Authorization" not in request_headers({})


class FakeTransport:
    """Stands in for Transport.send: records what would go on the wire and answers 200 with a JSON body."""

    def __init__(self):
        self.sent = []

    def __call__(self, transport, method, url, params, headers, body, stream=False, owns=None):
        self.sent.append({"method": method, "url": requests.Request(method, url, params=params).prepare().url,
                          "headers": CaseInsensitiveDict(headers), "body": body})
        response = requests.Response()
        response.status_code, response.url, response.reason = 200, url, "OK"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8"})
        response._content = b'{"ok": true}'  # pylint: disable=protected-access
        response._content_consumed = True  # pylint: disable=protected-access  (also when read as a stream)
        return response


@pytest.fixture
def fake_transport():
    fake = FakeTransport()
    entry = {"accessToken": TOKEN, "expires_on": 1900000000, "expiresOn": "2030-03-17 17:46:40.000000"}
    with mock.patch("azext_devopstoken._http.Transport.send",
                    lambda self, *args, **kwargs: fake(self, *args, **kwargs)), \
            mock.patch("azure.cli.core._profile.Profile.get_raw_token",
                       lambda profile, **kwargs: (("Bearer", TOKEN, entry), None, kwargs["tenant"])):
        yield fake


@pytest.mark.parametrize("arguments, authorization", [
    (["--path", "_apis/projects"], "Bearer " + TOKEN),
    (["--path", "{project}/_apis/wit/workitems/$Bug", "-p", "Mobile App", "-m", "patch",
      "--body", '[{"op": "add", "path": "/fields/System.Title", "value": "x"}]',
      "--headers", "accept=application/json;api-version=7.1", "X-TFS-FedAuthRedirect=Allow", "X-Extra=1"],
     "Bearer " + TOKEN),
    (["--path", "_apis/projects", "--headers", "authorization=Basic OnNlY3JldA==", "content-type=text/plain",
      "--body", "plain"], "Basic OnNlY3JldA=="),
])
def test_dry_run_shows_the_headers_that_are_sent(az, fake_transport, arguments, authorization):
    command = ["devops-rest", "call", "--org", "contoso", "--tenant", TENANT] + arguments
    dry = az(*(command + ["--dry-run", "-o", "json"]))
    assert dry.exit_code == 0, dry
    shown = json.loads(dry.stdout)
    assert fake_transport.sent == []  # the dry run sent nothing
    real = az(*(command + ["-o", "json"]))
    assert real.exit_code == 0, real
    assert json.loads(real.stdout) == {"ok": True}
    (sent,) = fake_transport.sent
    assert sent["headers"].pop("Authorization") == authorization
    redacted = CaseInsensitiveDict(shown["headers"]).pop("Authorization")
    assert redacted == ("Bearer <redacted>" if authorization.startswith("Bearer") else
                        "<redacted: given with --headers>")
    shown_headers = CaseInsensitiveDict(shown["headers"])
    del shown_headers["Authorization"]
    assert shown_headers == sent["headers"] and len(sent["headers"]) >= 4
    assert (shown["method"], shown["url"]) == (sent["method"], sent["url"])
    assert shown["body"] == _as_shown(sent["body"], sent["headers"].get("Content-Type"))


def _as_shown(body, content_type):
    if body is None:
        return None
    return json.loads(body) if "json" in content_type else body.decode("utf-8")


def test_workers_sharing_a_token_source_fetch_one_token():
    """A batch's workers share one TokenSource: when they all need a token at once, one fetches it."""
    import threading
    import time
    from types import SimpleNamespace
    from azext_devopstoken._client import TokenSource
    fetched = []

    def fetch(*args, **kwargs):
        fetched.append(1)
        time.sleep(0.2)  # long enough for every thread to arrive while the first fetch runs
        return SimpleNamespace(token=TOKEN, token_type="Bearer", expires_on=time.time() + 3600, tenant=TENANT,
                               expires_on_local="later")

    source = TokenSource(None, None, None)
    start, answers = threading.Barrier(8), []

    def worker():
        start.wait()
        answers.append(source.authorization())

    with mock.patch("azext_devopstoken._auth.get_organization_token", fetch):
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert answers == ["Bearer " + TOKEN] * 8 and len(fetched) == 1
