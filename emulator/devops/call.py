"""One request on its way through the emulated Azure DevOps: the :class:`Call` every handler receives, with
the helpers handlers share (query arguments, the organization's projects and URLs, the JSON answer, paging
tokens)."""
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from emulator.devops import model
from emulator.devops.errors import ApiError, compact_json
from emulator.server import Request, Response


@dataclass
class Call:  # pylint: disable=too-many-instance-attributes
    request: Request
    service: Any                      # the DevOpsService: settings, stores, host URLs
    org: Any = None
    caller: Optional[model.Caller] = None
    version: Any = None               # routing.ApiVersion, once checked
    groups: dict = field(default_factory=dict)
    edge_ref: str = field(default_factory=lambda: "AMS%09d" % (uuid.uuid4().int % 10 ** 9))

    def arg(self, name, default=None):
        return self.request.arg(name, default)

    def int_arg(self, name, default, minimum=0):
        raw = self.request.arg(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise ApiError(400, "ArgumentException", "The value '%s' is not valid for %s." % (raw, name))
        return value

    @property
    def emulator(self):
        return self.service.emulator

    def org_url(self, listener="devops"):
        """The organization's URL on one of the Azure DevOps hosts."""
        return self.service.org_url(self.org, listener)

    def projects(self):
        return model.projects_for(self.org.name, self.org.project_count)

    def project(self):
        """The project named in the path (by name or id), or the service's 404."""
        return model.find_project(self.projects(), self.groups.get("project"))

    def optional_project(self):
        return self.project() if self.groups.get("project") else None

    def ok(self, body, headers=(), status=200):
        """A JSON answer; its Content-Type names the api-version, as the service's does."""
        content_type = "application/json; charset=utf-8"
        if self.version is not None:
            content_type += "; api-version=" + self.version.text
        return Response(status, [("Content-Type", content_type)] + list(headers), compact_json(body))

    def json_body(self):
        try:
            body = json.loads(self.request.body.decode("utf-8")) if self.request.body else {}
        except (ValueError, UnicodeDecodeError) as ex:
            raise ApiError(400, "ArgumentException", "The request body is not valid JSON.") from ex
        return body if isinstance(body, dict) else {}


# -- continuation tokens -------------------------------------------------------------------------------
def bad_token(token):
    return ApiError(400, "InvalidContinuationTokenException", "The continuation token '%s' is not valid." % token)


def decode_token(token, prefix):
    """The offset in an opaque ``prefix:offset`` continuation token."""
    try:
        kind, _, offset = model.unb64(token).partition(":")
        if kind != prefix:
            raise ValueError(token)
        return int(offset)
    except ValueError as ex:
        raise bad_token(token) from ex


def integer_token(token):
    """An integer continuation token, as the projects and releases lists define theirs (vsts-rest-api-specs
    core/7.1/core.json Projects_List: continuationToken "type": "integer", "Pointer that shows how many projects
    already been fetched"; release/7.1/release.json Releases_List: "type": "integer"): digits only."""
    if not re.fullmatch(r"[0-9]+", token):
        raise bad_token(token)
    return int(token)


def numeric_token(token):
    """The offset in a ``offset;watermark`` token (the work item revisions report's, a string in the specs)."""
    try:
        return int(token.split(";")[0])
    except ValueError as ex:
        raise bad_token(token) from ex
