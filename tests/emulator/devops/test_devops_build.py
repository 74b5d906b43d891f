"""Builds and the streamed artifact zip of the emulated Azure DevOps (emulator/devops/areas/build.py, artifacts.py)."""
import hashlib
import io
import time
import zipfile
from urllib.parse import quote

from devops_support import ARTIFACT, assert_error, download, get
from emulator.devops.artifacts import DEFAULT_ARTIFACT_SIZE, artifact_sha256


def test_artifact_download_integrity(devops_emu, service, alice):
    service.set_artifact_size(3 << 20)
    response = get(devops_emu, ARTIFACT % 7, token=alice)
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Length"] == str(3 << 20)
    assert len(response.content) == 3 << 20
    assert hashlib.sha256(response.content).hexdigest() == artifact_sha256(3 << 20)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["drop/payload.bin"]


def test_artifact_default_size_and_tiny_sizes(devops_emu, service, alice):
    _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
    assert size == DEFAULT_ARTIFACT_SIZE and digest == artifact_sha256(DEFAULT_ARTIFACT_SIZE)
    for tiny in (0, 10, 500):
        service.set_artifact_size(tiny)
        _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
        assert size == tiny and digest == artifact_sha256(tiny)


def test_large_artifact_streams_quickly(devops_emu, service, alice):
    service.set_artifact_size(96 << 20)
    started = time.monotonic()
    _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 96 << 20 and digest == artifact_sha256(96 << 20)
    assert time.monotonic() - started < 30


def test_artifact_metadata_and_errors(devops_emu, alice):
    listing = get(devops_emu, "/contoso/Website/_apis/build/builds/7/artifacts?api-version=7.1", token=alice).json()
    assert listing["count"] == 1 and listing["value"][0]["name"] == "drop"
    assert "%24format=zip" in listing["value"][0]["resource"]["downloadUrl"]
    other = get(devops_emu, "/contoso/Website/_apis/build/builds/7/artifacts?artifactName=logs&api-version=7.1",
                token=alice)
    assert_error(other, 404, "ArtifactNotFoundException")
    no_build = get(devops_emu, ARTIFACT % 99999, token=alice)
    assert_error(no_build, 404, "BuildNotFoundException")


def test_builds_paging(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "$top=40&api-version=7.1" + ("&continuationToken=" + quote(token) if token else "")
        response = get(devops_emu, "/contoso/Website/_apis/build/builds?" + query, token=alice)
        seen += [b["id"] for b in response.json()["value"]]
        token = response.headers.get("x-ms-continuationtoken")
        if not token:
            break
    assert len(seen) == 150 == len(set(seen))
    bad = get(devops_emu, "/contoso/Website/_apis/build/builds?continuationToken=garbage&api-version=7.1",
              token=alice)
    assert bad.status_code == 400
