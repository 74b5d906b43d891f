"""A TEST-ONLY endpoint that has no counterpart in Azure DevOps: ``{org}[/{project}[/{team}]]/_apis/_emulator/echo``
answers with what it received (method, query, content type, body length and SHA-256, the body parsed as JSON
when it is JSON), so end-to-end tests can prove a body arrived byte for byte. It sits behind the same
authentication as every route (emulator.devops.auth), so it is never kinder than a real route would be."""
import hashlib
import json

ECHO_PATH = r"/_apis/_emulator/echo"


def echo(call):
    body = call.request.body or b""
    content_type = call.request.header("Content-Type")
    parsed, is_json = None, False
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            parsed, is_json = json.loads(body.decode("utf-8")), True
        except (ValueError, UnicodeDecodeError):
            parsed = None
    return call.ok({
        "method": call.request.method,
        "project": call.groups.get("project"),
        "team": call.groups.get("team"),
        "query": {k: v for k, v in call.request.query.items() if k.lower() != "api-version"},
        "contentType": content_type,
        "contentLength": call.request.header("Content-Length"),
        "transferEncoding": call.request.header("Transfer-Encoding"),
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "isJson": is_json,
        "json": parsed,
    })
