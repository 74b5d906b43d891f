"""Build area: builds (header continuation), build logs (plain text) and the build artifact, as JSON or as the
streamed zip."""
from emulator.devops import model
from emulator.devops.artifacts import artifact_chunks
from emulator.devops.call import decode_token
from emulator.devops.errors import ApiError
from emulator.server import Response


def list_builds(call):
    project = call.project()
    top = call.int_arg("$top", 1000, minimum=1)
    token = call.arg("continuationToken")
    start = decode_token(token, "builds") if token else 0
    numbers = list(range(model.BUILDS_PER_PROJECT, 0, -1))[start:start + top]
    headers = [("x-ms-continuationtoken", model.b64("builds:%d" % (start + top)))] \
        if start + top < model.BUILDS_PER_PROJECT else []
    org_url = call.org_url()
    return call.ok({"count": len(numbers), "value": [model.build_json(project, n, org_url) for n in numbers]},
                   headers)


def _build(call):
    project = call.project()
    found, number = model.find_build(call.projects(), int(call.groups["build"]))
    if found != project:
        raise ApiError(404, "BuildNotFoundException",
                       "The requested build %s could not be found." % call.groups["build"])
    return project, number


def get_build(call):
    project, number = _build(call)
    return call.ok(model.build_json(project, number, call.org_url()))


def build_artifacts(call):
    project, number = _build(call)
    artifact = model.artifact_json(project, number, call.org_url(), call.version.text)
    name = call.arg("artifactName")
    if name is None:
        return call.ok({"count": 1, "value": [artifact]})
    if name.lower() != "drop":
        raise ApiError(404, "ArtifactNotFoundException",
                       "Artifact %s was not found for build %s." % (name, call.groups["build"]))
    wants_zip = (call.arg("$format") or "").lower() == "zip" or "application/zip" in (
        call.request.header("Accept") or "").lower()
    return _artifact_zip(call.service.artifact_size) if wants_zip else call.ok(artifact)


def _artifact_zip(size):
    return Response(200, [("Content-Type", "application/zip"), ("Content-Length", str(size)),
                          ("Content-Disposition", "attachment; filename=drop.zip; filename*=utf-8''drop.zip")],
                    artifact_chunks(size))


def build_log(call):
    """A build log is plain text (the real service answers text/plain unless JSON is asked for)."""
    project, number = _build(call)
    log_id = int(call.groups["log"])
    if not 1 <= log_id <= 3:
        raise ApiError(404, "BuildLogNotFoundException", "Build log %d was not found." % log_id)
    lines = model.build_log_lines(project, number, log_id)
    return Response.text(200, "\r\n".join(lines) + "\r\n")
