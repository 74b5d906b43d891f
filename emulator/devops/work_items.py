"""Work items of one emulator: an in-memory store numbered per organization, JSON Patch documents
(create/update) and a subset of WIQL (flat queries). Only work items created over REST are stored.
"""
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Dict, List

from emulator.devops.errors import ApiError
from emulator.devops.model import Project, identity_ref, now_iso

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


class AttachmentStore:
    """Uploaded work-item attachments: id -> (project id, file name, bytes), kept in memory."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = {}

    def add(self, project_id, name, data):
        ident = str(uuid.uuid4())
        with self._lock:
            self._items[ident] = (project_id, name, bytes(data))
        return ident

    def get(self, ident):
        """(file name, bytes), or None."""
        with self._lock:
            found = self._items.get(ident.lower())
        return None if found is None else found[1:]
