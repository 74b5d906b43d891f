"""Azure DevOps error bodies: every refusal below the service is an :class:`ApiError`, answered as the service's
standard JSON body (``$id``, ``innerException``, ``message``, ``typeName``, ``typeKey``, ``errorCode``, ``eventId``)
with the message repeated, URL-encoded, in the ``X-TFS-ServiceError`` header.
"""
import json
from urllib.parse import quote_plus

from emulator.server import Response

# typeKey -> (namespace, assembly); typeName is "{namespace}.{typeKey}, {assembly}".
_FRAMEWORK = "Microsoft.TeamFoundation.Framework.Server"
_WEBAPI = "Microsoft.VisualStudio.Services.WebApi"
_WIT = "Microsoft.TeamFoundation.WorkItemTracking.Server"
ERROR_TYPES = {
    "UnauthorizedRequestException": (_FRAMEWORK, _FRAMEWORK),
    "RequestBlockedException": (_FRAMEWORK, _FRAMEWORK),
    "HostDoesNotExistException": (_FRAMEWORK, _FRAMEWORK),
    "ServiceUnavailableException": (_FRAMEWORK, _FRAMEWORK),
    "VssVersionNotSpecifiedException": (_WEBAPI, _WEBAPI),
    "VssVersionOutOfRangeException": (_WEBAPI, _WEBAPI),
    "VssInvalidPreviewVersionException": (_WEBAPI, _WEBAPI),
    "VssInvalidApiVersionException": (_WEBAPI, _WEBAPI),
    "VssRequestContentTypeNotSupportedException": (_WEBAPI, _WEBAPI),
    "VssPropertyValidationException": ("Microsoft.VisualStudio.Services.Common",
                                       "Microsoft.VisualStudio.Services.Common"),
    "ProjectDoesNotExistWithNameException": ("Microsoft.TeamFoundation.Core.WebApi",
                                             "Microsoft.TeamFoundation.Core.WebApi"),
    "WorkItemUnauthorizedAccessException": (_WIT, _WIT),
    "WorkItemTypeNotFoundException": (_WIT, _WIT),
    "RuleValidationException": (_WIT, _WIT),
    "WiqlSyntaxException": (_WIT, _WIT),
    "AttachmentNotFoundException": (_WIT, _WIT),
    "BuildNotFoundException": ("Microsoft.TeamFoundation.Build.WebApi", "Microsoft.TeamFoundation.Build2.WebApi"),
    "ArtifactNotFoundException": ("Microsoft.TeamFoundation.Build.WebApi", "Microsoft.TeamFoundation.Build2.WebApi"),
    "InvalidContinuationTokenException": (_WEBAPI, _WEBAPI),
    "ResourceAreaNotFoundException": ("Microsoft.VisualStudio.Services.Location",
                                      "Microsoft.VisualStudio.Services.WebApi"),
    "BuildLogNotFoundException": ("Microsoft.TeamFoundation.Build.WebApi", "Microsoft.TeamFoundation.Build2.WebApi"),
    "GitRepositoryNotFoundException": ("Microsoft.TeamFoundation.Git.Server", "Microsoft.TeamFoundation.Git.Server"),
    "AccessCheckException": ("Microsoft.VisualStudio.Services.Security", "Microsoft.VisualStudio.Services.WebApi"),
    "ArgumentNullException": ("System", "mscorlib"),
    "ArgumentException": ("System", "mscorlib"),
    "HttpException": ("System.Web", "System.Web"),
}


class ApiError(Exception):
    """An Azure DevOps error: raised anywhere below the service, turned into the standard body."""

    def __init__(self, status, type_key, message, event_id=3000, headers=(), extra=None):
        super().__init__(message)
        self.status = status
        self.type_key = type_key
        self.message = message
        self.event_id = event_id
        self.headers = list(headers)
        self.extra = extra or {}

    def body(self):
        return error_body(self.type_key, self.message, self.event_id, self.extra)


def error_body(type_key, message, event_id=3000, extra=None):
    namespace, assembly = ERROR_TYPES[type_key]
    body = {"$id": "1"}
    body.update(extra or {})      # e.g. the customProperties of a work-item rule error come right after $id
    body.update({"innerException": None, "message": message,
                 "typeName": "%s.%s, %s" % (namespace, type_key, assembly), "typeKey": type_key,
                 "errorCode": 0, "eventId": event_id})
    return body


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def json_error(error):
    headers = [("Content-Type", "application/json; charset=utf-8"),
               ("X-TFS-ServiceError", quote_plus(error.message))] + error.headers
    return Response(error.status, headers, compact_json(error.body()))
