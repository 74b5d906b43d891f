import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_devopstoken._header_rules import parse_headers


def test_a_file_of_headers_is_one_header_per_line():
    text = "# from a file\r\nX-One: 1\r\n\r\nX-Two=a=b\nAuthorization: Basic eDp5\n"
    expected = [("X-One", "1"), ("X-Two", "a=b"), ("Authorization", "Basic eDp5"), ("If-Match", "*")]
    assert parse_headers([text, "If-Match=*"]) == expected


def test_the_first_separator_splits():
    assert parse_headers(["X-Url: https://a/?b=c", "X-Eq=a:b"]) == [("X-Url", "https://a/?b=c"), ("X-Eq", "a:b")]


@pytest.mark.parametrize("item, words", [
    ("X-A=a\rb", "line break or control character"),
    ("X-A=a\x00b", "line break or control character"),
    ("X-A=caf\u00e9 \u20ac", "outside Latin-1"),
    ("Bad Name=1", "valid header name"),
    ("novalue", "valid header name"),
    ("Host=evil.example", "set by the HTTP layer"),
    ("Content-Length=5", "set by the HTTP layer"),
    ("Transfer-Encoding: chunked", "set by the HTTP layer"),
])
def test_headers_http_cannot_carry_are_a_usage_error(item, words):
    with pytest.raises(InvalidArgumentValueError, match=words):
        parse_headers([item])


def test_a_secret_value_is_never_echoed():
    with pytest.raises(InvalidArgumentValueError) as info:
        parse_headers(["Authorization=Basic s3cr3t\u20ac"])
    assert "s3cr3t" not in str(info.value) + " ".join(info.value.recommendations)
