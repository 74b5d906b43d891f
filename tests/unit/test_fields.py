"""-f/-F fields and --patch: gh api's nesting rules, typed values, conflicts and errors that name the flag."""
import io
import json

import pytest
from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError, MutuallyExclusiveArgumentError

from azext_devopstoken import _fields


def test_nested_keys_arrays_and_arrays_of_objects_as_gh_builds_them():
    # the case of gh's own fields_test.go (Test_parseFields_nested), in JSON
    body = _fields.build_fields(
        ["branch[name]=patch-1", "robots[]=Hubot", "robots[]=Dependabot", "labels[][name]=bug",
         "labels[][color]=red", "labels[][colorOptions][]=red", "labels[][colorOptions][]=blue",
         "labels[][name]=feature", "labels[][color]=green", "labels[][colorOptions][]=red",
         "nested[][key1][key2][key3]=value", "empty[]"],
        ["branch[protections]=true", "ids[]=123", "ids[]=456"])
    assert body == {
        "branch": {"name": "patch-1", "protections": True},
        "robots": ["Hubot", "Dependabot"],
        "labels": [{"name": "bug", "color": "red", "colorOptions": ["red", "blue"]},
                   {"name": "feature", "color": "green", "colorOptions": ["red"]}],
        "nested": [{"key1": {"key2": {"key3": "value"}}}],
        "empty": [],
        "ids": [123, 456]}


def test_string_fields_stay_strings_and_values_keep_every_equals_sign():
    body = _fields.build_fields(["enabled=true", "count=5", "query=SELECT [System.Id] WHERE [a] = 'b'", "e=",
                                 "mail=me@example.com"])
    assert body == {"enabled": "true", "count": "5", "query": "SELECT [System.Id] WHERE [a] = 'b'", "e": "",
                    "mail": "me@example.com"}


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("null", None), ("0", 0), ("-12", -12), ("3.25", 3.25), ("1e3", 1000.0),
    ("12345678901234567890", 12345678901234567890),
    ("007", "007"), ("+1", "+1"), (".5", ".5"), ("1.", "1."), ("NaN", "NaN"), ("Infinity", "Infinity"),
    ("True", "True"), ("0x10", "0x10"), ("", ""), ("@", "@"), ("1_000", "1_000")])
def test_typed_values(text, expected):
    value = _fields.typed_value(text)
    assert value == expected and type(value) is type(expected)


def test_typed_values_serialise_as_json_types():
    assert json.dumps(_fields.build_fields(typed_fields=["a=1", "b=2.5", "c=true", "d=null", "e=x"]),
                      sort_keys=True) == '{"a": 1, "b": 2.5, "c": true, "d": null, "e": "x"}'


def test_a_number_beyond_float_range_is_an_error_not_infinity():
    with pytest.raises(InvalidArgumentValueError, match=r"^-F/--typed-field x: the number 1e999 is out of range"):
        _fields.build_fields(typed_fields=["x=1e999"])


def test_typed_field_reads_a_file_as_exact_utf8_text_never_typed(tmp_path):
    (tmp_path / "n.txt").write_bytes(b"42\n")
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfcaf\xc3\xa9")
    body = _fields.build_fields(typed_fields=["n=@%s" % (tmp_path / "n.txt"), "t=@%s" % (tmp_path / "bom.txt")])
    assert body == {"n": "42\n", "t": "caf\u00e9"}


def test_typed_field_reads_stdin_bytes():
    body = _fields.build_fields(typed_fields=["description=@-"], stdin=io.BytesIO("d\u00e9j\u00e0 vu\n".encode()))
    assert body == {"description": "d\u00e9j\u00e0 vu\n"}
    assert _fields.reads_stdin(["a=1", "description=@-"]) and not _fields.reads_stdin(["a=@-x", "b=-"])


def test_a_file_that_is_not_utf8_is_refused_naming_flag_field_and_byte(tmp_path):
    (tmp_path / "b.bin").write_bytes(b"ok\xff\xfe")
    with pytest.raises(FileOperationError) as caught:
        _fields.build_fields(typed_fields=["data=@%s" % (tmp_path / "b.bin")])
    assert str(caught.value).startswith("-F/--typed-field data=@")
    assert "not UTF-8 text (byte 2)" in str(caught.value) and "--input" in str(caught.value)


def test_a_missing_file_is_one_line_naming_the_flag(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileOperationError) as caught:
        _fields.build_fields(typed_fields=["x=@%s" % missing])
    assert str(caught.value) == "-F/--typed-field x=@%s: cannot read the file: No such file or directory." % missing


def test_at_sign_in_a_string_field_is_not_a_file(tmp_path):
    (tmp_path / "secret").write_text("s3cret")
    assert _fields.build_fields(["who=@%s" % (tmp_path / "secret")]) == {"who": "@%s" % (tmp_path / "secret")}


@pytest.mark.parametrize("fields, typed, message", [
    (["a[b]=1", "a[b][c]=2"], [], "-f/--field a[b][c]: 'b' is already a string; it cannot also be an object."),
    (["a[b][c]=1", "a[b]=2"], [], "-f/--field a[b]: 'b' is already an object; give each key once."),
    (["a=1", "a[]=2"], [], "-f/--field a[]: 'a' is already a string; it cannot also be an array."),
    (["a[]=1", "a[x]=2"], [], "-f/--field a[x]: 'a' is already an array; it cannot also be an object."),
    (["a[x]=1", "a[][y]=2"], [], "-f/--field a[][y]: 'a' is already an object; it cannot also be an array."),
    (["a=1"], ["a=2"], "-F/--typed-field a: 'a' is already a string; give each key once."),
    ([], ["a=true", "a[b]=1"], "-F/--typed-field a[b]: 'a' is already a boolean; it cannot also be an object."),
    ([], ["a=null", "a[]=1"], "-F/--typed-field a[]: 'a' is already null; it cannot also be an array."),
    ([], ["a=1", "a[b]=1"], "-F/--typed-field a[b]: 'a' is already a number; it cannot also be an object."),
])
def test_conflicts_name_the_flag_and_the_field(fields, typed, message):
    with pytest.raises(InvalidArgumentValueError) as caught:
        _fields.build_fields(fields, typed)
    assert str(caught.value) == message


@pytest.mark.parametrize("field, reason", [
    ("a", "give a value after ="), ("a[b]", "give a value after ="), ("=v", "write the key as"),
    ("[x]=1", "write the key as"), ("a[b=1", "write the key as"), ("a]b=1", "write the key as"),
    ("a[b]c=1", "write the key as"), ("a[][]=1", "arrays of arrays"), ("a\x1b[2Jb=1", "write the key as")])
def test_bad_keys(field, reason):
    with pytest.raises(InvalidArgumentValueError) as caught:
        _fields.build_fields([field])
    text = str(caught.value)
    assert text.startswith("-f/--field ") and reason in text
    assert "\x1b" not in text and "\n" not in text


def test_fields_apply_raw_before_typed_in_order():
    assert _fields.build_fields(["tags[]=a", "tags[]=b"], ["tags[]=1"]) == {"tags": ["a", "b", 1]}
    assert _fields.build_fields() == {}


# --patch

@pytest.mark.parametrize("text, expected", [
    ("/fields/System.Title=Fix the build", ("/fields/System.Title", "Fix the build")),
    ("/fields/System.Title=a:=b", ("/fields/System.Title", "a:=b")),
    ("/fields/System.Title=x=y", ("/fields/System.Title", "x=y")),
    ("/fields/System.Title=", ("/fields/System.Title", "")),
    ("/fields/Microsoft.VSTS.Scheduling.Effort:=5", ("/fields/Microsoft.VSTS.Scheduling.Effort", 5)),
    ("/fields/Custom.Flag:=true", ("/fields/Custom.Flag", True)),
    ('/fields/System.Title:="quoted"', ("/fields/System.Title", "quoted")),
    ('/relations/-:={"rel": "System.LinkTypes.Hierarchy-Reverse", "url": "https://x/1"}',
     ("/relations/-", {"rel": "System.LinkTypes.Hierarchy-Reverse", "url": "https://x/1"})),
    ("/a~1b~0c=1", ("/a~1b~0c", "1")),
    ("/x:=null", ("/x", None)),
])
def test_patch_operations(text, expected):
    assert _fields.parse_patch(text) == {"op": "add", "path": expected[0], "value": expected[1]}


def test_patch_document_keeps_order():
    assert _fields.build_patch_document(["/fields/A=1", "/fields/B:=2"]) == [
        {"op": "add", "path": "/fields/A", "value": "1"}, {"op": "add", "path": "/fields/B", "value": 2}]
    assert _fields.JSON_PATCH_CONTENT_TYPE == "application/json-patch+json"


@pytest.mark.parametrize("text, message", [
    ("fields/System.Title=x", "--patch fields/System.Title: the path must start with '/'"),
    ("=x", "--patch : the path must start with '/'"),
    ("/fields/System.Title", "--patch /fields/System.Title: give PATH=VALUE for a string, or PATH:=JSON"),
    ("/a~2=1", "--patch /a~2: write '~' as ~0"),
    ("/x:={\"a\": 1,}", "--patch /x:=: the value is not valid JSON: Expecting property name enclosed in double "
                        "quotes at line 1 column 9 (character 9)"),
    ("/x:=\n[1,\n", "--patch /x:=: the value is not valid JSON: Expecting value at line 3 column 1 (character 6)"),
    ("/x:=Fix the build", "--patch /x:=: the value is not valid JSON: Expecting value at line 1 column 1"),
    ("/x:=NaN", "--patch /x:=: the value is not valid JSON: NaN is not JSON"),
    ("/x:=[Infinity]", "--patch /x:=: the value is not valid JSON: Infinity is not JSON"),
])
def test_patch_errors_name_the_flag_and_the_position(text, message):
    with pytest.raises(InvalidArgumentValueError) as caught:
        _fields.parse_patch(text)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_one_body_source():
    _fields.check_one_body_source(fields=["a=1"], typed_fields=["b=2"])
    _fields.check_one_body_source(body="{}")
    _fields.check_one_body_source()
    with pytest.raises(MutuallyExclusiveArgumentError, match=r"--body or -f/-F fields or --patch or --input"):
        _fields.check_one_body_source(body="{}", typed_fields=["a=1"], patches=["/a=1"], input_file="-")
    with pytest.raises(MutuallyExclusiveArgumentError, match=r"^Give only one request body: -f/-F fields or --patch"):
        _fields.check_one_body_source(fields=["a=1"], patches=["/a=1"])


def test_az_expands_at_file_after_the_first_equals_before_the_command_sees_it(tmp_path, monkeypatch):
    """The fact the module's design rests on: az's own @file expansion reaches into key=@file (so -F sees the
    file's text), leaves values it cannot open alone (so they reach typed_value), and never expands an @ that
    is not right after the first '='."""
    from azure.cli.core.commands import _expand_file_prefixed_files
    (tmp_path / "t.txt").write_text("true\n")
    monkeypatch.chdir(tmp_path)
    assert _expand_file_prefixed_files(
        ["-F", "key=@t.txt", "--input", "@t.txt", "x=@missing", "mail=me@t.txt", "a=b=@t.txt",
         "/fields/T:=@t.txt", "--input", "t.txt"]) == [
        "-F", "key=true", "--input", "true", "x=@missing", "mail=me@t.txt", "a=b=@t.txt",
        "/fields/T:=true", "--input", "t.txt"]
