"""API resource locations of the emulated Azure DevOps, and the ``api-version`` rules they decide.

Every versioned route of :data:`emulator.devops.routing.ROUTES` names its :class:`Location`: the id, area,
resource name and route template the SDKs read from ``OPTIONS {org}/_apis`` (ApiResourceLocation: azure-devops
Python SDK ``_models.py``, Node SDK ``VsoBaseInterfaces.ts``), and whether the resource is released at 7.1
(MicrosoftDocs/vsts-rest-api-specs 7.1: operations flagged ``"x-ms-preview": true`` are preview-only; Location's
connectionData/resourceAreas are not in the specs, and the Python SDK's v7_0 clients ask ``7.0-preview.1`` for them).
``OPTIONS`` answers are built from the same table, so what a client learns there is what the routes enforce.

Versions (emulator choices where no public source gives per-location values, see fidelity-findings §2.2):
``minVersion`` 1.0, ``maxVersion`` the host's newest (7.2 on Services: the Node SDK asks ``7.2-preview.*``;
7.0 on an Azure DevOps Server 2022 collection, Learn "REST API versioning"), ``releasedVersion`` the host's newest
released version (7.1 / 7.0) or ``0.0`` for a resource never released.

Refusal texts: Microsoft's VSS WebApi resources (actions/runner ``src/Sdk/Resources/WebApiResources.g.cs``:
VersionNotSuppliedMessage, PreviewVersionNotSuppliedMessage, ApiVersionOutOfRange); the preview refusal body as
captured from the service in dotnet/arcade-services#1141 (400, ``VssInvalidPreviewVersionException``).
"""
import re
from dataclasses import dataclass

from emulator.devops.errors import ApiError

MIN_VERSION = (1, 0)


@dataclass(frozen=True)
class HostVersions:
    """The api-versions one kind of host serves."""
    latest: tuple              # newest version known (preview or released)
    latest_released: tuple     # newest non-preview version


SERVICES = HostVersions((7, 2), (7, 1))
SERVER_2022 = HostVersions((7, 0), (7, 0))   # Azure DevOps Server 2022 RTM: "supports is 7.0"


@dataclass(frozen=True)
class Location:
    """One ApiResourceLocation. ``released``: the resource has a non-preview version (7.1 on Services)."""
    id: str
    area: str
    resource: str
    template: str
    resource_version: int
    released: bool = True

    def to_json(self, host):
        released = "%d.%d" % host.latest_released if self.released else "0.0"
        return {"id": self.id, "area": self.area, "resourceName": self.resource, "routeTemplate": self.template,
                "resourceVersion": self.resource_version, "minVersion": "%d.%d" % MIN_VERSION,
                "maxVersion": "%d.%d" % host.latest, "releasedVersion": released}


_NO_VERSION = ('No api-version was supplied for the "%s" request. The version must be supplied either as part '
               'of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter '
               '(e.g. "?api-version=1.0").')
_PREVIEW = ('The requested version "%s" of the resource is under preview. The -preview flag must be supplied in '
            'the api-version for such requests. For example: "%s-preview"')
_OUT_OF_RANGE = ("The requested REST API version of %s is out of range for this server. The latest REST API version "
                 "this server supports is %d.%d.")


@dataclass(frozen=True)
class ApiVersion:
    text: str
    number: tuple
    preview: bool


_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$", re.I)


def requested_version(request):
    """The api-version text from the query string, else from the Accept header, else None."""
    value = request.arg("api-version")
    if value is None:
        found = re.search(r"api-version\s*=\s*([^;,\s]+)", request.header("Accept") or "", re.I)
        value = found.group(1) if found else None
    return value


def check_version(request, location, host=SERVICES):
    """The request's :class:`ApiVersion`, or the service's 400 for a missing / invalid / out-of-range /
    unreleased one."""
    text = (requested_version(request) or "").strip()
    if not text:
        raise ApiError(400, "VssVersionNotSpecifiedException", _NO_VERSION % request.method)
    match = _VERSION_RE.match(text)
    if not match:
        raise ApiError(400, "VssInvalidApiVersionException",
                       "The api-version '%s' is not in the correct format. Expected: "
                       "{major}.{minor}[-preview[.{resourceVersion}]]." % text)
    version = ApiVersion(text, (int(match.group(1)), int(match.group(2))), bool(match.group(3)))
    plain = "%d.%d" % version.number
    if version.number > host.latest:
        raise ApiError(400, "VssVersionOutOfRangeException", _OUT_OF_RANGE % ((plain,) + host.latest))
    released = location is None or location.released
    if not version.preview and (not released or version.number > host.latest_released):
        raise ApiError(400, "VssInvalidPreviewVersionException", _PREVIEW % (plain, plain))
    return version


def locations_json(locations, host, area=None):
    """The ``OPTIONS {org}/_apis[/{area}]`` body: ``{count, value: [ApiResourceLocation]}`` (the Node SDK asks
    per area, the Python SDK for the whole table)."""
    wanted = (area or "").lower()
    value = [loc.to_json(host) for loc in locations if not wanted or loc.area.lower() == wanted]
    return {"count": len(value), "value": value}
