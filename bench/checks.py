"""Checks of every run's output, outside the timed span, so a wrong answer cannot look fast."""
import hashlib
import json
import os

from bench.measure import BenchError


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _json_documents(path):
    """Every JSON document in a file of documents written one after another (the loops' pages)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    decoder, index, documents = json.JSONDecoder(), 0, []
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def check_token(path):
    document = _read_json(path)
    if document.get("tokenType") != "Bearer" or document.get("accessToken", "").count(".") != 2:
        raise BenchError("not a token: %r" % document)


def check_projects(count):
    def check(path):
        documents = _json_documents(path)
        items = [item for document in documents for item in document["value"]]
        names = {item["name"] for item in items}
        if len(items) != count or len(names) != count:
            raise BenchError("expected %d distinct projects in %s, got %d (%d distinct)"
                             % (count, path, len(items), len(names)))
    return check


def check_file(path, size, sha256):
    def check(_stdout):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        actual_size = os.path.getsize(path)
        if actual_size != size or digest.hexdigest() != sha256:
            raise BenchError("%s: %d bytes, sha256 %s; expected %d bytes, sha256 %s"
                             % (path, actual_size, digest.hexdigest(), size, sha256))
    return check


def remove(path):
    def after():
        if os.path.exists(path):
            os.unlink(path)
    return after


def check_account(path):
    if "tenantId" not in _read_json(path):
        raise BenchError("az account show: no tenantId")


def check_version(with_extension):
    def check(path):
        document = _read_json(path)
        has = "devops-token" in (document.get("extensions") or {})
        if "azure-cli" not in document or has != with_extension:
            raise BenchError("az version: extensions %r" % document.get("extensions"))
    return check
