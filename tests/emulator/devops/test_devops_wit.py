"""Work items of the emulated Azure DevOps (emulator/devops/areas/wit.py, work_items.py): JSON Patch, WIQL, batch get,
the revisions report."""
import json
from urllib.parse import quote

from devops_support import assert_error, call, ERROR_KEYS, get, session


PATCH_JSON = {"Content-Type": "application/json-patch+json"}


def create_task(emu, token, title="Write the emulator", project="Website", type_segment="$Task", extra=()):
    ops = ([{"op": "add", "path": "/fields/System.Title", "value": title}] if title else []) + list(extra)
    return call(emu, "POST", "/contoso/%s/_apis/wit/workitems/%s?api-version=7.1" % (quote(project), type_segment),
                token=token, headers=PATCH_JSON, data=json.dumps(ops))


def test_create_work_item_needs_json_patch_content_type(devops_emu, alice):
    response = call(devops_emu, "POST", "/contoso/Website/_apis/wit/workitems/$Task?api-version=7.1", token=alice,
                    json=[{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    assert_error(response, 415, "VssRequestContentTypeNotSupportedException",
                 'The request indicated a Content-Type of "application/json" for method type "POST" which is not '
                 'supported. Valid content types for this method are: application/json-patch+json.')


def test_create_get_update_and_query_work_items(devops_emu, alice):
    created = create_task(devops_emu, alice, extra=[{"op": "add", "path": "/fields/System.Tags", "value": "emu"}])
    assert created.status_code == 200, created.text
    item = created.json()
    fields = item["fields"]
    assert fields["System.Title"] == "Write the emulator" and fields["System.WorkItemType"] == "Task"
    assert fields["System.State"] == "New" and fields["System.TeamProject"] == "Website"
    assert fields["System.CreatedBy"]["uniqueName"] == "alice@contoso.example"
    assert item["rev"] == 1 and item["url"].endswith("/_apis/wit/workItems/%d" % item["id"])
    assert item["_links"]["html"]["href"]

    bug = create_task(devops_emu, alice, title="A bug", type_segment="%24Bug").json()
    assert bug["fields"]["System.WorkItemType"] == "Bug" and bug["id"] == item["id"] + 1

    fetched = get(devops_emu, "/contoso/_apis/wit/workitems/%d?api-version=7.1" % item["id"], token=alice).json()
    assert fetched["fields"]["System.Title"] == "Write the emulator"

    updated = call(devops_emu, "PATCH", "/contoso/Website/_apis/wit/workitems/%d?api-version=7.1" % item["id"],
                   token=alice, headers=PATCH_JSON,
                   data=json.dumps([{"op": "test", "path": "/rev", "value": 1},
                                    {"op": "replace", "path": "/fields/System.State", "value": "Active"}]))
    assert updated.status_code == 200, updated.text
    assert updated.json()["rev"] == 2 and updated.json()["fields"]["System.State"] == "Active"

    everything = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice,
                      json={"query": "SELECT [System.Id], [System.Title] FROM workitems "
                                     "WHERE [System.TeamProject] = @project ORDER BY [System.Id]"}).json()
    assert everything["queryType"] == "flat" and everything["asOf"]
    assert [c["referenceName"] for c in everything["columns"]] == ["System.Id", "System.Title"]
    ids = [w["id"] for w in everything["workItems"]]
    assert item["id"] in ids and bug["id"] in ids
    tasks = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice,
                 json={"query": "SELECT [System.Id] FROM WorkItems WHERE [System.WorkItemType] = 'Task'"}).json()
    assert item["id"] in [w["id"] for w in tasks["workItems"]]
    assert bug["id"] not in [w["id"] for w in tasks["workItems"]]
    other_project = call(devops_emu, "POST", "/contoso/Mobile%20App/_apis/wit/wiql?api-version=7.1", token=alice,
                         json={"query": "SELECT [System.Id] FROM workitems"}).json()
    assert item["id"] not in [w["id"] for w in other_project["workItems"]]


def test_work_item_without_title_breaks_a_rule(devops_emu, alice):
    response = create_task(devops_emu, alice, title=None,
                           extra=[{"op": "add", "path": "/fields/System.Description", "value": "no title"}])
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["$id", "customProperties"] + ERROR_KEYS[1:]
    assert body["typeKey"] == "RuleValidationException" and body["eventId"] == 3200
    assert body["message"].startswith("TF401320: Rule Error for field Title.")
    assert body["customProperties"]["FieldReferenceName"] == "System.Title"


def test_work_item_bad_requests(devops_emu, alice):
    missing = get(devops_emu, "/contoso/_apis/wit/workitems/999999?api-version=7.1", token=alice)
    assert_error(missing, 404, "WorkItemUnauthorizedAccessException",
                 "TF401232: Work item 999999 does not exist, or you do not have permissions to read it.")
    unknown_type = create_task(devops_emu, alice, type_segment="$Spaceship")
    assert_error(unknown_type, 404, "WorkItemTypeNotFoundException")
    not_a_patch = call(devops_emu, "POST", "/contoso/Website/_apis/wit/workitems/$Task?api-version=7.1",
                       token=alice, headers=PATCH_JSON, data=b'{"title": "x"}')
    assert_error(not_a_patch, 400, "VssPropertyValidationException",
                 "You must pass a valid patch document in the body of the request.")
    patch_as_json = call(devops_emu, "PATCH", "/contoso/_apis/wit/workitems/1?api-version=7.1", token=alice,
                         json=[{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    assert patch_as_json.status_code == 415
    no_query = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice, json={})
    assert no_query.status_code == 400
    unknown_project = create_task(devops_emu, alice, project="Nope")
    assert_error(unknown_project, 404, "ProjectDoesNotExistWithNameException")


def test_work_items_batch_get(devops_emu, alice):
    first = create_task(devops_emu, alice, title="batch one").json()["id"]
    body = get(devops_emu, "/contoso/_apis/wit/workitems?ids=%d,999998&errorPolicy=omit&fields=System.Title"
               "&api-version=7.1" % first, token=alice).json()
    assert body["count"] == 2 and body["value"][1] is None
    assert body["value"][0]["fields"] == {"System.Title": "batch one"}


def test_work_item_revisions_body_continuation(devops_emu, alice):
    seen, url, batches = [], devops_emu.devops_url + "/contoso/Website/_apis/wit/reporting/workitemrevisions" \
        "?api-version=7.1", 0
    while True:
        response = session(devops_emu).get(url, headers={"Authorization": "Bearer " + alice}, timeout=30)
        body = response.json()
        seen += [(v["id"], v["rev"]) for v in body["values"]]
        batches += 1
        if body["isLastBatch"]:
            break
        url = body["nextLink"]
    assert batches == 3 and len(seen) == len(set(seen)) == 2500
    assert "continuationToken=" in body["nextLink"] and body["continuationToken"]
