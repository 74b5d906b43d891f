"""Work item tracking area: work items (JSON Patch), WIQL, and the revisions report (body continuation)."""
from urllib.parse import quote

from emulator.devops import model, work_items
from emulator.devops.call import numeric_token
from emulator.devops.errors import ApiError


def _wanted_fields(call):
    raw = call.arg("fields")
    return {f.strip().lower() for f in raw.split(",") if f.strip()} if raw else None


def create_work_item(call):
    project = call.project()
    ops = work_items.parse_patch(call.request.body)
    org_url = call.org_url()
    item = call.service.work_items.create(project, call.groups["type"], ops, call.caller, org_url)
    return call.ok(work_items.work_item_json(item, org_url))


def get_work_item(call):
    call.optional_project()
    item = call.service.work_items.get(call.org.name, int(call.groups["id"]))
    return call.ok(work_items.work_item_json(item, call.org_url(), _wanted_fields(call)))


def update_work_item(call):
    call.optional_project()
    ops = work_items.parse_patch(call.request.body)
    org_url = call.org_url()
    item = call.service.work_items.update(call.org.name, int(call.groups["id"]), ops, call.caller, org_url)
    return call.ok(work_items.work_item_json(item, org_url))


def list_work_items(call):
    call.optional_project()
    ids = [part for part in (call.arg("ids") or "").split(",") if part.strip()]
    if not ids:
        raise ApiError(400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: ids")
    omit = (call.arg("errorPolicy") or "").lower() == "omit"
    org_url, values = call.org_url(), []
    for ident in ids:
        try:
            item = call.service.work_items.get(call.org.name, int(ident))
            values.append(work_items.work_item_json(item, org_url, _wanted_fields(call)))
        except (ApiError, ValueError):
            if not omit:
                raise ApiError(404, "WorkItemUnauthorizedAccessException", "TF401232: Work item %s does "
                               "not exist, or you do not have permissions to read it." % ident,
                               event_id=3200) from None
            values.append(None)
    return call.ok({"count": len(values), "value": values})


def wiql(call):
    project = call.optional_project()
    query = call.json_body().get("query")
    if not query:
        raise ApiError(400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: wiql")
    columns, conditions = work_items.parse_wiql(query)
    macros = {"@project": project.name if project else None, "@me": call.caller.account}
    store = call.service.work_items
    items = store.in_project(project) if project else store.in_org(call.org.name)
    hits = [i for i in items if work_items.wiql_matches(i, conditions, macros)]
    top = call.int_arg("$top", None, minimum=1)
    org_url = call.org_url()
    return call.ok({
        "queryType": "flat", "queryResultType": "workItem", "asOf": model.now_iso(),
        "columns": work_items.wiql_columns(columns, org_url),
        "workItems": [{"id": i.id, "url": "%s/_apis/wit/workItems/%d" % (org_url, i.id)} for i in hits[:top]]})


def work_item_revisions(call):
    project = call.optional_project() or call.projects()[0]
    size = call.int_arg("$maxPageSize", 1000, minimum=1)
    token = call.arg("continuationToken")
    start = numeric_token(token) if token else 0
    end = min(start + size, model.REVISIONS_PER_PROJECT)
    next_token = "%d;%d" % (end, 638400000 + end)
    link = "%s/_apis/wit/reporting/workItemRevisions?continuationToken=%s&api-version=%s" % (
        call.org_url() + ("/" + quote(project.name) if call.groups.get("project") else ""),
        quote(next_token), call.version.text)
    return call.ok({"values": [model.revision_json(project, i) for i in range(start, end)],
                    "nextLink": link, "continuationToken": next_token,
                    "isLastBatch": end >= model.REVISIONS_PER_PROJECT})


# -- attachments ----------------------------------------------------------------------------------------------
# MicrosoftDocs/vsts-rest-api-specs specification/wit/7.1/workItemTracking.json: Attachments_Create
# (POST {organization}/{project}/_apis/wit/attachments?fileName=&uploadType=&areaPath=, consumes
# application/octet-stream, 200 with an AttachmentReference {id (uuid), url}) and Attachments_Get
# (GET .../_apis/wit/attachments/{id}?fileName=&download=, produces application/octet-stream).
def create_attachment(call):
    project = call.project()
    sent = (call.request.header("Content-Type") or "").split(";")[0].strip()
    if sent.lower() != "application/octet-stream":
        raise ApiError(415, "VssRequestContentTypeNotSupportedException",
                       'The request indicated a Content-Type of "%s" for method type "POST" which is not supported. '
                       "Valid content types for this method are: application/octet-stream." % sent)
    upload_type = (call.arg("uploadType") or "simple").lower()
    if upload_type not in ("simple", "chunked"):
        raise ApiError(400, "ArgumentException", "The value '%s' is not valid for uploadType." % upload_type)
    name = call.arg("fileName") or ""
    ident = call.service.attachments.add(project.id, name, call.request.body or b"")
    url = "%s/%s/_apis/wit/attachments/%s?fileName=%s" % (call.org_url(), project.id, ident, quote(name))
    return call.ok({"id": ident, "url": url})


def get_attachment(call):
    call.project()
    found = call.service.attachments.get(call.groups["attachment"])
    if found is None:
        # The 404 is Attachments_Get's; the message wording is the emulator's own (none is documented).
        raise ApiError(404, "AttachmentNotFoundException", "The attachment with id %s does not exist."
                       % call.groups["attachment"], event_id=3200)
    from emulator.server import Response
    return Response(200, [("Content-Type", "application/octet-stream")], found[1])
