"""The data behind the emulated Azure DevOps Services: error bodies, identities, synthetic projects,
builds, releases, graph users, audit entries and work-item revisions, a small in-memory work-item
store (JSON Patch + a WIQL subset), and the streamed build-artifact zip.

Everything synthetic is derived from the organization name and an index, so it costs no memory
and is the same in every emulator; only work items created over REST are stored.
"""
import base64
import datetime
import hashlib
import json
import re
import struct
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional

NAMESPACE = uuid.UUID("6f1e1f7a-3d1b-4c55-9b1e-8a0d3e5f7c21")
EPOCH = datetime.datetime(2024, 1, 2, 9, 0, tzinfo=datetime.timezone.utc)
DEPLOYMENT_ID = "5c7e9b1d-6a0f-4d1e-9a43-0d5e4c3b2a19"
TFS_SERVICE_OWNER = "00025394-6065-48ca-87d9-7f5672854ef7"
SPS_SERVICE_OWNER = "951917ac-a960-4999-8464-e3f0aa25b381"

BUILDS_PER_PROJECT = 150
RELEASES_PER_PROJECT = 120
SYNTHETIC_GRAPH_USERS = 180
AUDIT_ENTRIES = 450
REVISIONS_PER_PROJECT = 2500


# -- errors --------------------------------------------------------------------------------------
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


# -- small helpers -------------------------------------------------------------------------------
def stable_id(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def now_iso():
    return iso(datetime.datetime.now(datetime.timezone.utc))


def b64(text):
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def unb64(token):
    """Decode an opaque continuation token; ``ValueError`` when it is not one of ours."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as ex:
        raise ValueError(token) from ex


# -- identities ----------------------------------------------------------------------------------
@dataclass
class Caller:
    """Who an accepted token speaks for."""
    oid: str
    tenant: str
    kind: str                 # user | servicePrincipal | managedIdentity
    name: str
    upn: Optional[str] = None
    app_id: Optional[str] = None

    @property
    def is_user(self):
        return self.kind == "user"

    @property
    def account(self):
        """What Azure DevOps shows as the account name: the UPN of a user, else the application id."""
        return self.upn if self.is_user and self.upn else (self.app_id or self.oid)

    @property
    def vsid(self):
        return stable_id("identity", self.tenant, self.oid)

    @property
    def descriptor(self):
        if self.is_user:
            return "Microsoft.IdentityModel.Claims.ClaimsIdentity;%s\\%s" % (self.tenant, self.upn)
        return "Microsoft.VisualStudio.Services.Claims.AadServicePrincipal;%s\\%s" % (self.tenant, self.oid)

    @property
    def subject_descriptor(self):
        return "%s.%s" % ("aad" if self.is_user else "aadsp", b64(self.vsid))


def connection_identity(caller):
    return {
        "id": caller.vsid, "descriptor": caller.descriptor, "subjectDescriptor": caller.subject_descriptor,
        "providerDisplayName": caller.name, "isActive": True,
        "properties": {"Account": {"$type": "System.String", "$value": caller.account}},
        "resourceVersion": 2, "metaTypeId": 0,
    }


def identity_ref(caller, org_url):
    avatar = "%s/_apis/GraphProfile/MemberAvatars/%s" % (org_url, caller.subject_descriptor)
    return {
        "displayName": caller.name, "url": "%s/_apis/Identities/%s" % (org_url, caller.vsid),
        "_links": {"avatar": {"href": avatar}}, "id": caller.vsid,
        "uniqueName": caller.account, "imageUrl": avatar, "descriptor": caller.subject_descriptor,
    }


# -- projects --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Project:
    org: str
    index: int
    id: str
    name: str

    @property
    def revision(self):
        return 400 + self.index

    @property
    def last_update(self):
        return iso(EPOCH + datetime.timedelta(hours=self.index))


def project_name(index):
    """``Website`` and ``Mobile App`` first (a space to URL-encode), then ``Project 003`` and up."""
    return ("Website", "Mobile App")[index] if index < 2 else "Project %03d" % (index + 1)


@lru_cache(maxsize=32)
def projects_for(org, count):
    return tuple(Project(org, i, stable_id(org, "project", i), project_name(i)) for i in range(count))


def find_project(projects, id_or_name):
    wanted = (id_or_name or "").strip().lower()
    for project in projects:
        if wanted in (project.id, project.name.lower()):
            return project
    raise ApiError(404, "ProjectDoesNotExistWithNameException",
                   "TF200016: The following project does not exist: %s. Verify that the name of the project is "
                   "correct and that the project exists on the specified Azure DevOps Server." % id_or_name)


def project_json(project, org_url, detailed=False):
    body = {
        "id": project.id, "name": project.name, "description": "Synthetic project %s" % project.name,
        "url": "%s/_apis/projects/%s" % (org_url, project.id), "state": "wellFormed",
        "revision": project.revision, "visibility": "private", "lastUpdateTime": project.last_update,
    }
    if detailed:
        team = stable_id(project.org, "team", project.index)
        body["_links"] = {"self": {"href": body["url"]}, "collection": {"href": "%s/_apis/projectCollections/%s" % (
            org_url, stable_id(project.org, "collection"))}, "web": {"href": "%s/%s" % (org_url, project.name)}}
        body["defaultTeam"] = {"id": team, "name": "%s Team" % project.name,
                               "url": "%s/_apis/projects/%s/teams/%s" % (org_url, project.id, team)}
    return body


# -- builds, releases ------------------------------------------------------------------------------
def build_id(project, number):
    return project.index * 1000 + number


def find_build(projects, wanted_id):
    index, number = divmod(wanted_id, 1000)
    if 0 <= index < len(projects) and 1 <= number <= BUILDS_PER_PROJECT:
        return projects[index], number
    raise ApiError(404, "BuildNotFoundException", "The requested build %s could not be found." % wanted_id)


def build_log_lines(project, number, log_id):
    """Deterministic log text for one build log, timestamped like the real agent's output."""
    stamp = "2024-01-02T03:04:%02d.0000000Z"
    steps = ["##[section]Starting: %s-CI #%d log %d" % (project.name, number, log_id),
             "Agent name: 'Hosted Agent'", "Agent version: 3.236.1", "Restoring packages...",
             "Build succeeded.", "    0 Warning(s)", "    0 Error(s)", "##[section]Finishing: log %d" % log_id]
    return [(stamp % i) + " " + step for i, step in enumerate(steps)]


def build_json(project, number, org_url):
    queued = EPOCH + datetime.timedelta(minutes=37 * number)
    ident = build_id(project, number)
    return {
        "id": ident, "buildNumber": "20240102.%d" % number, "status": "completed",
        "result": "succeeded" if number % 7 else "failed",
        "queueTime": iso(queued), "startTime": iso(queued + datetime.timedelta(seconds=20)),
        "finishTime": iso(queued + datetime.timedelta(minutes=4)),
        "url": "%s/%s/_apis/build/Builds/%d" % (org_url, project.id, ident),
        "definition": {"id": 1, "name": "%s-CI" % project.name, "type": "build", "queueStatus": "enabled"},
        "project": {"id": project.id, "name": project.name, "state": "wellFormed", "visibility": "private"},
        "sourceBranch": "refs/heads/main", "sourceVersion": hashlib.sha1(str(ident).encode()).hexdigest(),
        "reason": "individualCI", "priority": "normal",
    }


def artifact_json(project, number, org_url, api_version):
    ident = build_id(project, number)
    url = "%s/%s/_apis/build/builds/%d/artifacts?artifactName=drop&api-version=%s" % (
        org_url, project.id, ident, api_version)
    return {
        "id": number, "name": "drop", "source": stable_id(project.org, "agent"),
        "resource": {"type": "Container", "data": "#/%d/drop" % (ident + 7000000),
                     "properties": {"localpath": "/home/vsts/work/1/a", "artifactsize": "0"},
                     "url": url, "downloadUrl": url + "&%24format=zip"},
    }


def release_json(project, number, org_url, vsrm_org_url):
    created = EPOCH + datetime.timedelta(hours=5 * number)
    return {
        "id": number, "name": "Release-%d" % number, "status": "active",
        "createdOn": iso(created), "modifiedOn": iso(created + datetime.timedelta(minutes=3)),
        "releaseDefinition": {"id": 1, "name": "%s-CD" % project.name, "path": "\\",
                              "url": "%s/%s/_apis/Release/definitions/1" % (vsrm_org_url, project.id)},
        "projectReference": {"id": project.id, "name": None}, "reason": "continuousIntegration",
        "url": "%s/%s/_apis/Release/releases/%d" % (vsrm_org_url, project.id, number),
        "_links": {"self": {"href": "%s/%s/_apis/Release/releases/%d" % (vsrm_org_url, project.id, number)},
                   "web": {"href": "%s/%s/_release?releaseId=%d&_a=release-summary" % (
                       org_url, project.id, number)}},
        "keepForever": False, "logsContainerUrl": None,
    }


# -- graph users, audit log, revisions --------------------------------------------------------------
def graph_users(org, directory):
    """The users of an organization: its member users, then synthetic ones (tenant-local UPNs)."""
    members = [p for p in directory.principals.values()
               if p.kind == "user" and p.oid(org.tenant) is not None and p.oid(org.tenant) in org.member_oids]
    users = [(p.oid(org.tenant), p.upn, p.display_name) for p in members]
    domain = directory.tenants.get(org.tenant, "outlook.com")
    users += [(stable_id(org.name, "user", i), "user%03d@%s" % (i, domain), "Synthetic User %03d" % i)
              for i in range(1, SYNTHETIC_GRAPH_USERS + 1)]
    return users


def graph_user_json(user, org, vssps_org_url):
    oid, upn, name = user
    descriptor = "aad." + b64(stable_id("identity", org.tenant, oid))   # as Caller.subject_descriptor
    url = "%s/_apis/Graph/Users/%s" % (vssps_org_url, descriptor)
    return {
        "subjectKind": "user", "metaType": "member", "directoryAlias": upn.split("@")[0], "domain": org.tenant,
        "principalName": upn, "mailAddress": upn, "origin": "aad", "originId": oid, "displayName": name,
        "_links": {"self": {"href": url}, "memberships": {"href": "%s/_apis/Graph/Memberships/%s" % (
            vssps_org_url, descriptor)}},
        "url": url, "descriptor": descriptor,
    }


def audit_entry_json(org, index):
    moment = EPOCH + datetime.timedelta(minutes=90 * (AUDIT_ENTRIES - index))
    return {
        "id": "%d;%s" % (638400000000000000 - index, stable_id(org.name, "audit", index)),
        "correlationId": stable_id(org.name, "audit-correlation", index),
        "activityId": stable_id(org.name, "audit-activity", index),
        "actorCUID": stable_id(org.name, "actor", index % 5), "actorUserId": stable_id(org.name, "actor", index % 5),
        "actorUPN": "user%03d@contoso.example" % (index % 5 + 1), "authenticationMechanism": "AAD_Cookie",
        "timestamp": iso(moment), "scopeType": "organization", "scopeDisplayName": "%s (Organization)" % org.name,
        "scopeId": stable_id(org.name, "collection"), "projectId": None, "projectName": None,
        "ipAddress": "203.0.113.%d" % (index % 250 + 1), "userAgent": "Mozilla/5.0",
        "actionId": "Security.ModifyPermission", "data": {}, "details": "Synthetic audit event %d" % index,
        "area": "Security", "category": "modify", "categoryDisplayName": "Modify",
        "actorDisplayName": "Synthetic User %03d" % (index % 5 + 1), "actorImageUrl": None,
    }


def revision_json(project, index):
    item, rev = divmod(index, 5)
    return {
        "id": 100000 + project.index * 10000 + item, "rev": rev + 1,
        "fields": {"System.Id": 100000 + project.index * 10000 + item, "System.Rev": rev + 1,
                   "System.TeamProject": project.name, "System.WorkItemType": "Task",
                   "System.State": ("New", "Active", "Active", "Resolved", "Closed")[rev],
                   "System.Title": "Synthetic task %d" % item,
                   "System.ChangedDate": iso(EPOCH + datetime.timedelta(minutes=index))},
    }


# -- work items ------------------------------------------------------------------------------------
WORK_ITEM_TYPES = ("Bug", "Epic", "Feature", "Issue", "Task", "Test Case", "User Story")
_KNOWN_FIELDS = {name.lower(): name for name in (
    "System.Title", "System.Description", "System.State", "System.Reason", "System.AssignedTo", "System.Tags",
    "System.AreaPath", "System.IterationPath", "System.History", "Microsoft.VSTS.Common.Priority")}
_READ_ONLY = {"system.id", "system.rev", "system.workitemtype", "system.teamproject", "system.createdby",
              "system.createddate"}
_PATCH_OPS = ("add", "replace", "remove", "test", "copy", "move")
_BAD_PATCH = "You must pass a valid patch document in the body of the request."


@dataclass
class WorkItem:
    id: int
    project: Project
    fields: Dict[str, object]
    rev: int = 1
    relations: List[dict] = field(default_factory=list)


def _not_found(ident):
    return ApiError(404, "WorkItemUnauthorizedAccessException",
                    "TF401232: Work item %s does not exist, or you do not have permissions to read it." % ident,
                    event_id=3200)


def _rule_error(reference, friendly):
    message = ("TF401320: Rule Error for field %s. Error code: Required, HasValues, LimitedToValues, "
               "AllowsOldValue, InAdmin." % friendly)
    rule = {"FieldReferenceName": reference, "FieldStatusFlags": "required, hasValues, limitedToValues, "
            "allowsOldValue, inAdmin", "ErrorMessage": message, "FieldStatusCode": 1}
    return ApiError(400, "RuleValidationException", message, event_id=3200,
                    extra={"customProperties": dict(rule, RuleValidationErrors=[rule])})


def parse_patch(body):
    """A JSON Patch document (list of operations) from request bytes, or the service's 400."""
    try:
        ops = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        ops = None
    valid = isinstance(ops, list) and ops and all(
        isinstance(op, dict) and str(op.get("op", "")).lower() in _PATCH_OPS and isinstance(op.get("path"), str)
        for op in ops)
    if not valid:
        raise ApiError(400, "VssPropertyValidationException", _BAD_PATCH)
    return ops


def _field_name(path):
    name = path[len("/fields/"):]
    return _KNOWN_FIELDS.get(name.lower(), name)


def _apply_op(item, op):
    kind, path = op["op"].lower(), op["path"]
    if path.lower().startswith("/fields/"):
        _apply_field_op(item, kind, _field_name(path), op.get("value"))
    elif path.lower().startswith("/relations/") and kind == "add":
        item.relations.append(op.get("value") or {})
    elif path.lower() == "/rev" and kind == "test":
        if str(op.get("value")) != str(item.rev):
            raise ApiError(412, "VssPropertyValidationException",
                           "TF26071: This work item has been changed by someone else since you opened it. You will "
                           "need to refresh it and discard your changes.", event_id=3200)
    elif kind != "test":
        raise ApiError(400, "VssPropertyValidationException", _BAD_PATCH)


def _apply_field_op(item, kind, name, value):
    if name.lower() in _READ_ONLY and kind != "test":
        raise ApiError(400, "RuleValidationException",
                       "TF401326: Invalid field status 'ReadOnly' for field '%s'." % name, event_id=3200)
    if kind in ("add", "replace"):
        item.fields[name] = value
    elif kind == "remove":
        item.fields.pop(name, None)


class WorkItemStore:
    """Work items of one emulator, numbered per organization like the real service."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = {}          # (org, id) -> WorkItem
        self._next = {}           # org -> next id

    def create(self, project, type_name, ops, caller, org_url):
        canonical = _work_item_type(type_name, project)
        stamp = now_iso()
        who = identity_ref(caller, org_url)
        fields = {"System.AreaPath": project.name, "System.TeamProject": project.name,
                  "System.IterationPath": project.name, "System.WorkItemType": canonical, "System.State": "New",
                  "System.Reason": "New", "System.CreatedDate": stamp, "System.CreatedBy": who,
                  "System.ChangedDate": stamp, "System.ChangedBy": who, "System.CommentCount": 0,
                  "Microsoft.VSTS.Common.StateChangeDate": stamp, "Microsoft.VSTS.Common.Priority": 2}
        item = WorkItem(0, project, fields)
        for op in ops:
            _apply_op(item, op)
        _check_title(item)
        with self._lock:
            item.id = self._next.get(project.org, 1)
            self._next[project.org] = item.id + 1
            self._items[(project.org, item.id)] = item
        return item

    def update(self, org, ident, ops, caller, org_url):
        with self._lock:
            item = self._find(org, ident)
            draft = WorkItem(item.id, item.project, dict(item.fields), item.rev, list(item.relations))
            for op in ops:
                _apply_op(draft, op)
            _check_title(draft)
            draft.rev += 1
            draft.fields["System.ChangedDate"] = now_iso()
            draft.fields["System.ChangedBy"] = identity_ref(caller, org_url)
            self._items[(org, ident)] = draft
            return draft

    def get(self, org, ident):
        with self._lock:
            return self._find(org, ident)

    def in_project(self, project):
        with self._lock:
            return sorted((i for (org, _), i in self._items.items()
                           if org == project.org and i.project == project), key=lambda i: i.id)

    def in_org(self, org):
        with self._lock:
            return sorted((i for (o, _), i in self._items.items() if o == org), key=lambda i: i.id)

    def _find(self, org, ident):
        item = self._items.get((org, int(ident)))
        if item is None:
            raise _not_found(ident)
        return item


def _work_item_type(type_name, project):
    for known in WORK_ITEM_TYPES:
        if known.lower() == type_name.strip().lower():
            return known
    raise ApiError(404, "WorkItemTypeNotFoundException",
                   "VS402323: Work item type %s does not exist in project %s or you do not have permission to "
                   "access it." % (type_name, project.name), event_id=3200)


def _check_title(item):
    if not str(item.fields.get("System.Title") or "").strip():
        raise _rule_error("System.Title", "Title")


def work_item_json(item, org_url, wanted_fields=None):
    url = "%s/_apis/wit/workItems/%d" % (org_url, item.id)
    fields = dict(item.fields, **{"System.Id": item.id, "System.Rev": item.rev})
    if wanted_fields:
        fields = {k: v for k, v in fields.items() if k.lower() in wanted_fields}
    body = {"id": item.id, "rev": item.rev, "fields": fields, "url": url, "_links": {
        "self": {"href": url}, "workItemUpdates": {"href": url + "/updates"},
        "workItemRevisions": {"href": url + "/revisions"},
        "workItemComments": {"href": "%s/%s/_apis/wit/workItems/%d/comments" % (org_url, item.project.id, item.id)},
        "html": {"href": "%s/%s/_workitems/edit/%d" % (org_url, item.project.id, item.id)},
        "workItemType": {"href": "%s/%s/_apis/wit/workItemTypes/%s" % (
            org_url, item.project.id, str(item.fields.get("System.WorkItemType", "")).replace(" ", "%20"))},
        "fields": {"href": "%s/%s/_apis/wit/fields" % (org_url, item.project.id)}}}
    if item.relations:
        body["relations"] = list(item.relations)
    return body


# -- WIQL (a subset: SELECT [fields] FROM workitems [WHERE [f] =|<>|CONTAINS 'v' AND ...] [ORDER BY]) ------
_WIQL_RE = re.compile(r"^\s*select\s+(?P<columns>.+?)\s+from\s+workitems\b(?P<rest>.*)$", re.I | re.S)
_CONDITION_RE = re.compile(r"\[(?P<field>[^\]]+)\]\s*(?P<op>=|<>|contains)\s*(?P<value>'(?:[^']|'')*'|@\w+)", re.I)
_COLUMN_NAMES = {"System.Id": "ID", "System.Title": "Title", "System.State": "State",
                 "System.WorkItemType": "Work Item Type", "System.AssignedTo": "Assigned To"}


def parse_wiql(query):
    """``(columns, conditions)``; ``ApiError`` 400 for text that is not a flat work-item query."""
    match = _WIQL_RE.match(query or "")
    if not match:
        raise ApiError(400, "WiqlSyntaxException",
                       "VS402337: Expecting 'SELECT'. The error is caused by \u00ab%s\u00bb." % (query or "")[:40],
                       event_id=3200)
    columns = re.findall(r"\[([^\]]+)\]", match.group("columns")) or ["System.Id"]
    where = re.split(r"\border\s+by\b", match.group("rest"), flags=re.I)[0]
    conditions = [(m.group("field"), m.group("op").lower(), m.group("value")) for m in _CONDITION_RE.finditer(where)]
    return columns, conditions


def wiql_matches(item, conditions, macros):
    return all(_condition_holds(item, cond, macros) for cond in conditions)


def _condition_holds(item, condition, macros):
    name, op, raw = condition
    wanted = macros.get(raw.lower()) if raw.startswith("@") else raw[1:-1].replace("''", "'")
    if wanted is None:
        return True   # an unknown macro (@today, ...): not modelled, does not filter
    actual = item.fields.get(_KNOWN_FIELDS.get(name.lower(), name))
    if isinstance(actual, dict):
        actual = actual.get("uniqueName")
    actual = "" if actual is None else str(actual)
    if op == "contains":
        return wanted.lower() in actual.lower()
    return (actual.lower() == wanted.lower()) == (op == "=")


def wiql_columns(columns, org_url):
    return [{"referenceName": c, "name": _COLUMN_NAMES.get(c, c.split(".")[-1]),
             "url": "%s/_apis/wit/fields/%s" % (org_url, c)} for c in columns]


# -- the build artifact: a valid zip of any size, streamed from one precomputed block ------------------
_BLOCK_SIZE = 1 << 20
_ENTRY = b"drop/payload.bin"
_DOS_TIME, _DOS_DATE = 9 << 11, ((2024 - 1980) << 9) | (1 << 5) | 2
_ZIP_OVERHEAD = 30 + 16 + 46 + 22 + 2 * len(_ENTRY)   # local header, data descriptor, central header, end


@lru_cache(maxsize=1)
def _block():
    return hashlib.shake_256(b"devops-token emulator artifact").digest(_BLOCK_SIZE)


def _payload(size):
    view = memoryview(_block())
    full, rest = divmod(size, _BLOCK_SIZE)
    for _ in range(full):
        yield view
    if rest:
        yield view[:rest]


def artifact_chunks(size):
    """The artifact body, exactly ``size`` bytes: a stored zip holding ``drop/payload.bin`` (CRC in a data
    descriptor, so the stream needs one pass and constant memory). Below the zip overhead: raw bytes."""
    if size <= _ZIP_OVERHEAD:
        yield from _payload(size)
        return
    data_size = size - _ZIP_OVERHEAD
    yield struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0008, 0, _DOS_TIME, _DOS_DATE, 0, 0, 0,
                      len(_ENTRY), 0) + _ENTRY
    crc = 0
    for chunk in _payload(data_size):
        crc = zlib.crc32(chunk, crc)
        yield chunk
    descriptor = struct.pack("<IIII", 0x08074B50, crc, data_size, data_size)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0008, 0, _DOS_TIME, _DOS_DATE, crc,
                          data_size, data_size, len(_ENTRY), 0, 0, 0, 0, 0, 0) + _ENTRY
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), 30 + len(_ENTRY) + data_size + 16, 0)
    yield descriptor + central + end


def artifact_sha256(size):
    """The sha256 hex digest of the artifact body the emulator serves for ``size`` bytes."""
    digest = hashlib.sha256()
    for chunk in artifact_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()
