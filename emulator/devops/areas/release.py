"""Release area (the vsrm host): releases, newest first, paged by a numeric ``x-ms-continuationtoken``."""
from emulator.devops import model
from emulator.devops.call import integer_token


def list_releases(call):
    project = call.project()
    top = call.int_arg("$top", 50, minimum=1)
    token = call.arg("continuationToken")
    first = integer_token(token) if token else model.RELEASES_PER_PROJECT
    numbers = list(range(min(first, model.RELEASES_PER_PROJECT), 0, -1))[:top]
    headers = [("x-ms-continuationtoken", str(numbers[-1] - 1))] if numbers and numbers[-1] > 1 else []
    org_url, vsrm_org = call.org_url(), call.org_url("vsrm")
    return call.ok({"count": len(numbers), "value": [
        model.release_json(project, n, org_url, vsrm_org) for n in numbers]}, headers)
