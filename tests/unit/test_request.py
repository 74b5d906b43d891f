import json

import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError, MutuallyExclusiveArgumentError

from azext_devopstoken import _request


def test_build_url_keeps_dollar_and_encodes_spaces():
    url, params = _request.build_url("https://dev.azure.com/contoso", "/My Project/_apis/wit/workitems/$Task?x=1")
    assert url == "https://dev.azure.com/contoso/My%20Project/_apis/wit/workitems/$Task"
    assert params == [("x", "1")]


def test_build_url_leading_slash_or_not_is_the_same():
    assert _request.build_url("https://h/o/", "_apis/projects") == _request.build_url("https://h/o", "/_apis/projects")


def test_placeholders_are_replaced_and_encoded():
    path = _request.expand_placeholders("{project}/_apis/wit/wiql", {"project": "My Project"})
    assert path == "My%20Project/_apis/wit/wiql"


@pytest.mark.parametrize("path, values, fragment", [
    ("{area}/_apis/x", {"project": "p"}, "unknown placeholder {area}"),
    ("{team}/_apis/x", {"project": "p"}, "no team is set"),
    ("{project}/_apis/x", {"project": None}, "no project is set"),
])
def test_placeholder_errors(path, values, fragment):
    with pytest.raises(InvalidArgumentValueError) as info:
        _request.expand_placeholders(path, values)
    assert fragment in str(info.value)


def test_pairs_need_an_equals_sign_and_name_the_option():
    assert _request.parse_pairs(["$top=5", "a=b=c", "e="], "--query-parameters") == [
        ("$top", "5"), ("a", "b=c"), ("e", "")]
    with pytest.raises(InvalidArgumentValueError) as info:
        _request.parse_pairs(["nope"], "--headers")
    assert "--headers expects name=value" in str(info.value)


def test_api_version_added_once():
    assert _request.add_api_version([("a", "1")], {}, None) == [("a", "1"), ("api-version", "7.1")]
    assert _request.add_api_version([], {}, "7.1-preview.1") == [("api-version", "7.1-preview.1")]
    assert _request.add_api_version([("API-Version", "6.0")], {}, None) == [("API-Version", "6.0")]
    assert _request.add_api_version([], {"Accept": "application/json;api-version=7.0"}, None) == []
    with pytest.raises(MutuallyExclusiveArgumentError):
        _request.add_api_version([("api-version", "6.0")], {}, "7.1")


def test_body_content_types():
    patch = json.dumps([{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    assert _request.encode_body(patch, None) == (patch.encode(), "application/json-patch+json")
    assert _request.encode_body('{"a": 1}', None) == (b'{"a": 1}', "application/json")
    assert _request.encode_body('[1, 2]', None)[1] == "application/json"
    assert _request.encode_body("not json", "text/plain") == (b"not json", "text/plain")
    assert _request.encode_body('{"a": 1}', "application/json; charset=utf-8")[1] == "application/json; charset=utf-8"
    assert _request.encode_body(None, None) == (None, None)


def test_bad_json_body_names_line_and_column():
    with pytest.raises(InvalidArgumentValueError) as info:
        _request.encode_body('{\n  "a": 1,\n  "b" 2\n}', None)
    assert "--body is not valid JSON" in str(info.value) and "line 3, column 7" in str(info.value)


@pytest.mark.parametrize("path", ["../fabrikam/_apis/projects", "a/./b", "%2e%2e/fabrikam", "x/%2E%2E/y"])
def test_dot_segments_are_refused(path):
    with pytest.raises(InvalidArgumentValueError) as info:
        _request.build_url("https://dev.azure.com/contoso", path)
    assert "segments" in str(info.value)


def test_scheme_like_relative_paths_build():
    url, _ = _request.build_url("https://dev.azure.com/contoso", "a:b/_apis/projects")
    assert url == "https://dev.azure.com/contoso/a:b/_apis/projects"
    assert _request.is_absolute("https://x/y") and _request.is_absolute("//x/y")
    assert not _request.is_absolute("a:b/c")


def test_an_unread_at_file_body_is_an_error():
    from azure.cli.core.azclierror import FileOperationError
    with pytest.raises(FileOperationError) as info:
        _request.encode_body("@/no/such/body.json", None)
    assert "/no/such/body.json does not exist or cannot be read" in str(info.value)
    with pytest.raises(FileOperationError):
        _request.encode_body("@missing.txt", "text/plain")


@pytest.mark.parametrize("url, service, path", [
    ("https://dev.azure.com/{organization}/{project}/_apis/wit/wiql?api-version=7.1", None,
     "/{project}/_apis/wit/wiql?api-version=7.1"),
    ("https://vssps.dev.azure.com/{organization}/_apis/graph/users", "vssps", "/_apis/graph/users"),
    ("https://{organization}.visualstudio.com/_apis/projects", None, "/_apis/projects"),
    ("https://dev.azure.com/{organization}", None, "/"),
])
def test_rest_reference_urls(url, service, path):
    found = _request.docs_url(url)
    assert (found.service, found.path) == (service, path)


@pytest.mark.parametrize("url", ["https://dev.azure.com/contoso/_apis/projects",
                                 "https://evil.example/{organization}/x",
                                 "https://dev.azure.com.evil.example/{organization}/x",
                                 "http://dev.azure.com/{organization}/x"])
def test_other_urls_are_not_rest_reference_urls(url):
    assert _request.docs_url(url) is None
