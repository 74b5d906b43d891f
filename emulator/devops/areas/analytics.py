"""Analytics OData feed: ``{org}/{project}/_odata/{version}/WorkItems``, paged by the server with an absolute
``@odata.nextLink`` (Learn, "Query guidelines for Analytics with OData", #perf-paging: "The link to the next page is
included in the @odata.nextLink property"). The OData version is the path segment, not an api-version; ``$top`` and
``$skip`` are not how Analytics pages (#perf-no-top-skip). Errors are OData's ``{"error": {"code", "message"}}``.
On Services Analytics answers on ``analytics.dev.azure.com``; on a Server under the collection URL (same page) —
the emulator serves it under the organization URL in both cases.
"""
from urllib.parse import quote

from emulator.devops.call import bad_token
from emulator.server import Response

ODATA_PAGE = 100
WORK_ITEMS = 250


def _odata_error(status, message):
    return Response.json(status, {"error": {"code": "0", "message": message}})


def work_items(call):
    project = call.project()
    if call.arg("$skip") is not None:
        return _odata_error(400, "VS403483: The query uses $skip, which Analytics does not support for paging. "
                                 "Follow @odata.nextLink instead.")
    token = call.arg("$skiptoken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise bad_token(token) from None
    end = min(start + ODATA_PAGE, WORK_ITEMS)
    base = "%s/%s/_odata/%s/" % (call.org_url(), quote(project.name), call.groups["odata_version"])
    body = {"@odata.context": base + "$metadata#WorkItems",
            "value": [{"WorkItemId": 100000 + project.index * 10000 + i, "Title": "Synthetic task %d" % i,
                       "State": ("New", "Active", "Closed")[i % 3], "WorkItemType": "Task"}
                      for i in range(start, end)]}
    if end < WORK_ITEMS:
        body["@odata.nextLink"] = base + "WorkItems?$skiptoken=%d" % end
    return Response.json(200, body, headers=[("OData-Version", "4.0")])
