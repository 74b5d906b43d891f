"""--input: binary-safe, seekable bodies with a known length (stdin spooled), and one-line errors."""
import io
import os
import subprocess
import sys

import pytest
import requests
from azure.cli.core.azclierror import FileOperationError, InvalidArgumentValueError

from azext_devopstoken import _input

ALL_BYTES = bytes(range(256)) * 3 + b"\r\n\x00\x1a"


def test_a_file_is_streamed_from_disk_with_its_size(tmp_path):
    path = tmp_path / "attachment.bin"
    path.write_bytes(ALL_BYTES)
    with _input.open_input(str(path)) as body:
        assert body.length == len(ALL_BYTES)
        assert isinstance(body.stream, io.BufferedReader) and body.stream.name == str(path)  # not read into memory
        assert body.stream.read() == ALL_BYTES
        body.rewind()
        prepared = requests.Request("POST", "https://127.0.0.1/x", data=body.stream).prepare()
        assert prepared.headers["Content-Length"] == str(len(ALL_BYTES))
        assert "Transfer-Encoding" not in prepared.headers
    assert body.stream.closed


def test_an_empty_file_has_length_zero(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with _input.open_input(str(tmp_path / "empty")) as body:
        assert body.length == 0 and body.stream.read() == b""


def test_stdin_is_spooled_so_the_length_is_known_and_a_retry_can_rewind():
    with _input.open_input("-", stdin=io.BytesIO(ALL_BYTES)) as body:
        assert body.length == len(ALL_BYTES)
        assert body.stream.read() == ALL_BYTES
        body.rewind()
        assert body.stream.read() == ALL_BYTES
        body.rewind()
        prepared = requests.Request("POST", "https://127.0.0.1/x", data=body.stream).prepare()
        assert prepared.headers["Content-Length"] == str(len(ALL_BYTES))


def test_large_stdin_spills_to_disk_instead_of_memory(monkeypatch):
    monkeypatch.setattr(_input, "SPOOL_MEMORY", 1000)
    data = os.urandom(5000)
    with _input.open_input("-", stdin=io.BytesIO(data)) as body:
        assert body.stream._rolled  # pylint: disable=protected-access  (SpooledTemporaryFile went to disk)
        assert body.length == 5000 and body.stream.read() == data
    with _input.open_input("-", stdin=io.BytesIO(b"small")) as body:
        assert not body.stream._rolled  # pylint: disable=protected-access


def test_a_pipe_path_is_spooled_too(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", "import sys; open(sys.argv[1], 'wb').write(b'\\x00piped\\xff')",
                               str(fifo)])
    try:
        with _input.open_input(str(fifo)) as body:
            assert body.length == 7 and body.stream.read() == b"\x00piped\xff"
    finally:
        writer.wait(timeout=30)


def test_a_real_process_stdin_arrives_byte_for_byte(tmp_path):
    """Through sys.stdin.buffer of a child process: no newline translation, no decoding."""
    code = ("import sys, hashlib; from azext_devopstoken import _input; b = _input.open_input('-'); "
            "sys.stdout.write('%d %s' % (b.length, hashlib.sha256(b.stream.read()).hexdigest()))")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", code], input=ALL_BYTES, capture_output=True, cwd=repo,
                            timeout=120, check=True)
    import hashlib
    assert result.stdout.decode() == "%d %s" % (len(ALL_BYTES), hashlib.sha256(ALL_BYTES).hexdigest())


def test_a_missing_file_names_input_and_the_path(tmp_path):
    missing = str(tmp_path / "nope.bin")
    with pytest.raises(FileOperationError) as caught:
        _input.open_input(missing)
    assert str(caught.value) == "--input: no such file (%s)." % missing


def test_text_az_expanded_from_an_at_file_is_never_echoed():
    """`--input @token.txt` reaches the command as the file's text: the error must not print it."""
    with pytest.raises(FileOperationError) as caught:
        _input.open_input("line one of a secret\nline two")
    assert "secret" not in str(caught.value) and str(caught.value) == "--input: no such file."


def test_an_unexpanded_at_path_is_refused_with_the_reason():
    with pytest.raises(InvalidArgumentValueError) as caught:
        _input.open_input("@missing.bin")
    assert str(caught.value) == "--input takes a file path without @ (@missing.bin)."
    assert "az itself would replace @FILE" in caught.value.recommendations[0]


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(FileOperationError, match=r"^--input .* is a directory; give a file\.$"):
        _input.open_input(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "locked"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(FileOperationError, match=r"^--input .*locked: cannot open the file: Permission denied\.$"):
        _input.open_input(str(path))


def test_an_empty_value_and_a_text_stream_are_refused():
    with pytest.raises(InvalidArgumentValueError, match="--input needs a file path"):
        _input.open_input("")
    with pytest.raises(FileOperationError, match="--input standard input: the stream is text, not bytes"):
        _input.open_input("-", stdin=io.StringIO("text"))


def test_a_read_error_on_stdin_is_one_line():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            raise OSError(5, "Input/output error")
    with pytest.raises(FileOperationError, match=r"^--input standard input: cannot read it: Input/output error\.$"):
        _input.open_input("-", stdin=Broken())


def test_default_content_type():
    assert _input.DEFAULT_INPUT_CONTENT_TYPE == "application/octet-stream"
