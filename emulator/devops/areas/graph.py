"""Graph area (the vssps host): the organization's users, paged by ``X-MS-ContinuationToken``."""
from emulator.devops import model
from emulator.devops.call import bad_token, decode_token

GRAPH_PAGE = 75


def graph_users(call):
    users = model.graph_users(call.org, call.emulator.directory)
    pages = [users[i:i + GRAPH_PAGE] for i in range(0, len(users), GRAPH_PAGE)] or [[]]
    pages.insert(1, [])      # as the real Graph does now and then: an empty page, more to come
    token = call.arg("continuationToken")
    index = decode_token(token, "graph") if token else 0
    if index >= len(pages):
        raise bad_token(token)
    headers = [("X-MS-ContinuationToken", model.b64("graph:%d" % (index + 1)))] if index + 1 < len(pages) else []
    vssps_org = call.org_url("vssps")
    value = [model.graph_user_json(u, call.org, vssps_org) for u in pages[index]]
    return call.ok({"count": len(value), "value": value}, headers)


def graph_groups(call):
    """The organization's built-in groups (one page: few enough)."""
    vssps_org = call.org_url("vssps")
    names = ("Project Collection Administrators", "Project Collection Valid Users", "Project Collection Readers")
    value = []
    for name in names:
        descriptor = "vssgp." + model.b64(model.stable_id(call.org.name, "group", name))
        value.append({"subjectKind": "group", "displayName": name, "principalName": "[%s]\\%s" % (call.org.name, name),
                      "origin": "vsts", "descriptor": descriptor,
                      "url": "%s/_apis/Graph/Groups/%s" % (vssps_org, descriptor)})
    return call.ok({"count": len(value), "value": value})
