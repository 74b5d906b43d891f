"""Dashboard area: a team's dashboards. Preview-only at 7.1 (every dashboard operation of
MicrosoftDocs/vsts-rest-api-specs dashboard/7.1 is ``x-ms-preview``; the Python SDK v7_0 client asks
``7.0-preview.3``)."""
from emulator.devops import model


def list_dashboards(call):
    project = call.project()
    team = call.groups.get("team") or "%s Team" % project.name
    entries = [{"id": model.stable_id(project.org, "dashboard", project.index, i), "name": name, "position": i + 1,
                "refreshInterval": 0, "eTag": "1", "groupId": model.stable_id(project.org, "team", project.index),
                "ownerId": model.stable_id(project.org, "team", project.index)}
               for i, name in enumerate(("Overview", "%s Sprint" % team))]
    return call.ok({"dashboardEntries": entries, "permission": "manage", "teamDashboardPermission": 15})
