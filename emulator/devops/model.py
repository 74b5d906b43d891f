"""The data behind the emulated Azure DevOps Services: identities, synthetic projects, builds, releases,
graph users, audit entries and work-item revisions.

Everything synthetic is derived from the organization name and an index, so it costs no memory
and is the same in every emulator.
"""
import base64
import datetime
import hashlib
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from emulator.devops.errors import ApiError

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
