"""Git area: Azure Repos over smart HTTP, played by the real `git http-backend` (CGI) behind the emulated Azure
DevOps.

Each project has one repository named like the project (as a new Azure DevOps project does), created on first
use as a bare repository with one commit, under ``{workdir}/git``. Pushes are accepted.
"""
import os
import subprocess
import tempfile
import threading

from emulator.devops.errors import ApiError
from emulator.server import Response

_LOCK = threading.Lock()
_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Emulator", "GIT_AUTHOR_EMAIL": "emulator@example.invalid",
                 "GIT_COMMITTER_NAME": "Emulator", "GIT_COMMITTER_EMAIL": "emulator@example.invalid"}


def smart_http(call):
    project = call.project()
    if call.groups["repo"].lower() != project.name.lower():
        raise ApiError(404, "GitRepositoryNotFoundException",
                       "TF401019: The Git repository with name or identifier %s does not exist or you do not "
                       "have permissions for the operation you are attempting." % call.groups["repo"])
    root, repo_dir = repository(call.emulator.workdir, call.org.name, project)
    return serve(call.request, root, repo_dir, call.groups["git_path"], call.caller.account)


def repository(workdir, org, project):
    """The bare repository of ``project``, made on first use with a README commit."""
    root = os.path.join(workdir, "git", org, project.id)
    path = os.path.join(root, project.name.replace(" ", "_") + ".git")
    with _LOCK:
        if not os.path.isdir(path):
            _create(path, "%s/%s" % (org, project.name))
    return root, os.path.basename(path)


def _create(path, title):
    env = dict(os.environ, **_GIT_IDENTITY)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["git", "init", "-q", "-b", "main", work], check=True, env=env)
        with open(os.path.join(work, "README.md"), "w", encoding="utf-8") as handle:
            handle.write("# %s\n\nServed by the devops-token emulator.\n" % title)
        subprocess.run(["git", "-C", work, "add", "README.md"], check=True, env=env)
        subprocess.run(["git", "-C", work, "commit", "-q", "-m", "Initial commit"], check=True, env=env)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--bare", work, path], check=True, env=env)


def serve(request, root, repo_dir, git_path, remote_user):
    """Run `git http-backend` for one request and turn its CGI answer into a Response."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": root, "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": "/%s%s" % (repo_dir, git_path), "QUERY_STRING": request.raw_query,
        "REQUEST_METHOD": request.method, "CONTENT_TYPE": request.header("Content-Type") or "",
        "CONTENT_LENGTH": str(len(request.body)), "REMOTE_USER": remote_user, "REMOTE_ADDR": "127.0.0.1",
        "HTTP_CONTENT_ENCODING": request.header("Content-Encoding") or "",
        "HTTP_GIT_PROTOCOL": request.header("Git-Protocol") or "",
    }
    result = subprocess.run(["git", "http-backend"], input=request.body, env=env, capture_output=True,
                            timeout=120, check=False)
    head, separator, body = result.stdout.partition(b"\r\n\r\n")
    if not separator:  # CGI allows bare newlines
        head, _, body = result.stdout.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name.strip(), value.strip()))
    if result.returncode != 0 and status == 200:
        return Response.text(500, "git http-backend failed: %s" % result.stderr.decode("utf-8", "replace"))
    return Response(status, headers, body)


PULL_REQUESTS_PER_REPO = 130
PULL_REQUESTS_TOP = 100   # emulator choice: the default page size is not documented


def list_pull_requests(call):
    """Pull requests, newest first, paged only by ``$top``/``$skip`` — no continuation token at all
    (MicrosoftDocs/vsts-rest-api-specs git/7.1/git.json: "to retrieve results 101-150, set top to 50 and skip to
    100"). A ``$skip`` past the end is an empty page."""
    project = call.project()
    repo = call.groups.get("repo")
    if repo is not None and repo.lower() not in (project.name.lower(), project.id):
        raise ApiError(404, "GitRepositoryNotFoundException",
                       "TF401019: The Git repository with name or identifier %s does not exist or you do not "
                       "have permissions for the operation you are attempting." % repo)
    top = call.int_arg("$top", PULL_REQUESTS_TOP, minimum=1)
    skip = call.int_arg("$skip", 0)
    numbers = list(range(PULL_REQUESTS_PER_REPO, 0, -1))[skip:skip + top]
    org_url = call.org_url()
    value = [{"pullRequestId": n, "title": "Change %d" % n, "status": "active",
              "repository": {"id": project.id, "name": project.name},
              "sourceRefName": "refs/heads/topic/%d" % n, "targetRefName": "refs/heads/main",
              "url": "%s/%s/_apis/git/repositories/%s/pullRequests/%d" % (org_url, project.id, project.id, n)}
             for n in numbers]
    return call.ok({"count": len(value), "value": value})
