"""--output-file: regular files replaced atomically with their mode and owner kept, symlinks kept, devices, FIFOs,
sockets and /dev/stdout written straight through, no .part file after a failure or a terminating signal, a full
disk as one error; and stdout streamed in constant memory."""
import errno
import io
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from azure.cli.core.azclierror import FileOperationError
from requests.exceptions import ChunkedEncodingError

from azext_devopstoken import _output
from azext_devopstoken._output import check_output_file, is_stream_target, write_atomically, write_stream_to_stdout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.endswith(".part")]


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# -- regular files ---------------------------------------------------------------------------------------------

def test_new_file_gets_the_usual_mode(tmp_path, umask_022):
    target = tmp_path / "out.json"
    assert write_atomically(str(target), [b"ab", b"cd"]) == 4
    assert target.read_bytes() == b"abcd"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


def test_existing_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "secret.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    write_atomically(str(target), [b"new"])
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(not IS_ROOT, reason="giving a file to another owner needs root")
def test_existing_file_keeps_its_owner(tmp_path):
    target = tmp_path / "theirs.json"
    target.write_bytes(b"old")
    os.chown(target, 4321, 8765)
    write_atomically(str(target), [b"new"])
    info = target.stat()
    assert (info.st_uid, info.st_gid, target.read_bytes()) == (4321, 8765, b"new")


def test_a_foreign_owner_we_cannot_keep_is_not_an_error(tmp_path, monkeypatch):
    target = tmp_path / "theirs.json"
    target.write_bytes(b"old")
    real_stat = os.stat

    def foreign_stat(path, *args, **kwargs):
        info = real_stat(path, *args, **kwargs)
        if str(path) == str(target):
            values = list(info)
            values[4], values[5] = info.st_uid + 1, info.st_gid + 1
            return os.stat_result(values)
        return info

    def refuse(*_):
        raise PermissionError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(os, "stat", foreign_stat)
    monkeypatch.setattr(os, "fchown", refuse)
    write_atomically(str(target), [b"new"])
    assert target.read_bytes() == b"new"


def test_symlink_keeps_pointing_where_it_did(tmp_path):
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    middle = tmp_path / "middle"
    middle.symlink_to(real)
    link = tmp_path / "link"
    link.symlink_to(middle)
    write_atomically(str(link), [b"new"])
    assert link.is_symlink() and os.readlink(link) == str(middle)
    assert middle.is_symlink() and os.readlink(middle) == str(real)
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_dangling_symlink_gets_its_target_created(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "later.json")
    assert check_output_file(str(link)) == str(link)
    write_atomically(str(link), [b"{}"])
    assert link.is_symlink() and (tmp_path / "later.json").read_bytes() == b"{}"


def test_a_failing_body_leaves_the_old_file_and_no_part_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def cut_off():
        yield b"x" * 1000
        raise ChunkedEncodingError("connection cut")  # an OSError subclass: must not become a file error
    with pytest.raises(ChunkedEncodingError):
        write_atomically(str(target), cut_off())
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_handlers_are_restored_after_the_write(tmp_path):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    seen = {}

    def body():
        seen.update({s: signal.getsignal(s) for s in before})
        yield b"data"
    write_atomically(str(tmp_path / "f"), body())
    assert all(seen[s] != before[s] for s in before)  # guarded while writing
    assert {s: signal.getsignal(s) for s in before} == before


# -- things that are not regular files --------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="POSIX only")
def test_dev_null_stays_a_character_device():
    assert write_atomically("/dev/null", [b"x" * 10]) == 10
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert check_output_file("/dev/null") == "/dev/null"


def test_fifo_is_written_through(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
    reader.start()
    assert write_atomically(fifo, [b"a" * 100_000, b"b"]) == 100_001
    reader.join(30)
    assert received == [b"a" * 100_000 + b"b"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert leftovers(tmp_path) == []


def test_fifo_whose_reader_goes_away_is_one_error(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)

    def read_a_little():
        with open(fifo, "rb") as pipe:
            pipe.read(10)
    reader = threading.Thread(target=read_a_little)
    reader.start()

    def endless():
        while True:
            yield b"z" * 65536
    with pytest.raises(FileOperationError, match="reader went away"):
        write_atomically(fifo, endless())
    reader.join(30)


def test_unix_socket_is_written_through(tmp_path):
    path = str(tmp_path / "sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received = []

    def accept():
        conn, _ = server.accept()
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            received.append(data)
    thread = threading.Thread(target=accept)
    thread.start()
    write_atomically(path, [b"hello ", b"socket"])
    thread.join(30)
    server.close()
    assert received == [b"hello socket"] and stat.S_ISSOCK(os.stat(path).st_mode)


def test_dev_stdout_and_dev_fd_are_streams():
    assert is_stream_target("/dev/stdout") and is_stream_target("/dev/fd/1")


def test_dev_stdout_redirected_to_a_file_is_appended_not_replaced(tmp_path):
    out = tmp_path / "captured.txt"
    code = ("import sys; sys.stdout.write('before\\n'); sys.stdout.flush();"
            "from azext_devopstoken._output import write_atomically;"
            "write_atomically('/dev/stdout', [b'body\\n'])")
    with open(out, "wb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        subprocess.run([sys.executable, "-c", code], stdout=handle, cwd=REPO, check=True, timeout=60)
    assert out.read_bytes() == b"before\nbody\n"
    assert out.stat().st_ino == inode
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="Linux only")
def test_dev_full_is_one_clear_error():
    with pytest.raises(FileOperationError, match="no space left on device"):
        write_atomically("/dev/full", [b"x" * 100_000])


# -- a full disk ------------------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and mount), else skip."""
    folder = tmp_path / "small"
    folder.mkdir()
    if not IS_ROOT or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                                     capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_full_disk_is_one_error_and_leaves_nothing(small_disk):
    target = small_disk / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(FileOperationError, match="no space left on device") as raised:
        write_atomically(str(target), [b"x" * 65536] * 8)
    assert "ENOSPC" in raised.value.error_msg
    assert target.read_bytes() == b"old"
    assert leftovers(small_disk) == []


@pytest.mark.parametrize("operation, code, words", [
    ("fsync", errno.ENOSPC, "no space left on device"),
    ("fsync", errno.EIO, "input/output error"),
    ("replace", getattr(errno, "EDQUOT", errno.ENOSPC), "quota" if hasattr(errno, "EDQUOT") else "no space"),
])
def test_late_disk_errors_are_one_error_and_leave_nothing(tmp_path, monkeypatch, operation, code, words):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def fail(*_):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(os, operation, fail)
    with pytest.raises(FileOperationError, match=words):
        write_atomically(str(target), [b"data"])
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


# -- validation up front ----------------------------------------------------------------------------------------

def test_check_output_file_refuses_a_directory(tmp_path):
    with pytest.raises(FileOperationError, match="is a directory"):
        check_output_file(str(tmp_path))
    link = tmp_path / "dirlink"
    link.symlink_to(tmp_path)
    with pytest.raises(FileOperationError, match="is a directory"):
        check_output_file(str(link))


def test_check_output_file_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileOperationError, match="does not exist"):
        check_output_file(str(tmp_path / "nope" / "out.json"))


def test_check_output_file_refuses_a_dangling_link_into_a_missing_folder(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone" / "out.json")
    with pytest.raises(FileOperationError, match="link points to .*gone.* does not exist"):
        check_output_file(str(link))


def test_check_output_file_refuses_an_unwritable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: os.path.abspath(path) != str(folder))
    with pytest.raises(FileOperationError, match="not writable"):
        check_output_file(str(folder / "out.json"))


def test_check_output_file_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert check_output_file("~/out.json") == str(tmp_path / "out.json")


# -- terminating signals, in a real process ---------------------------------------------------------------------

DRIVER = textwrap.dedent("""
    import os, signal, sys, time
    from azext_devopstoken._output import write_atomically
    target, setup = sys.argv[1], sys.argv[2]
    if setup == 'ignore-hup':
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if setup == 'returning-handler':
        signal.signal(signal.SIGTERM, lambda *_: None)
    def body():
        yield b'partial' * 1000
        sys.stdout.write('WRITING\\n'); sys.stdout.flush()
        for _ in range(600):
            time.sleep(0.1)
            yield b'more'
    write_atomically(target, body())
    sys.stdout.write('FINISHED\\n')
""")


def run_driver_and_signal(tmp_path, signals, setup="plain"):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    process = subprocess.Popen([sys.executable, "-c", DRIVER, str(target), setup], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "WRITING\n"
        assert len(leftovers(tmp_path)) == 1  # the partial file exists while writing
        for signum in signals:
            process.send_signal(signum)
            time.sleep(0.3)
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process, target


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_signal_mid_write_removes_the_part_file_and_kills_as_the_signal(tmp_path, signum):
    process, target = run_driver_and_signal(tmp_path, [signum])
    assert process.returncode == -signum  # re-delivered with the default action: 128+signum in a shell
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"old"


def test_sigint_mid_write_removes_the_part_file_and_is_a_keyboard_interrupt(tmp_path):
    process, _ = run_driver_and_signal(tmp_path, [signal.SIGINT])
    assert "KeyboardInterrupt" in process.stderr.read()
    assert leftovers(tmp_path) == []


def test_an_ignored_signal_stays_ignored(tmp_path):
    process, _ = run_driver_and_signal(tmp_path, [signal.SIGHUP, signal.SIGTERM], setup="ignore-hup")
    assert process.returncode == -signal.SIGTERM
    assert leftovers(tmp_path) == []


def test_a_previous_handler_that_returns_still_ends_the_command(tmp_path):
    process, _ = run_driver_and_signal(tmp_path, [signal.SIGTERM], setup="returning-handler")
    assert process.returncode == 128 + signal.SIGTERM
    assert "FINISHED" not in process.stdout.read()
    assert leftovers(tmp_path) == []


# -- stdout -----------------------------------------------------------------------------------------------------

def test_stdout_streaming_runs_in_constant_memory(monkeypatch):
    import tracemalloc
    sink = io.TextIOWrapper(open(os.devnull, "wb"))  # pylint: disable=consider-using-with
    monkeypatch.setattr(sys, "stdout", sink)
    block = b"y" * _output.CHUNK
    tracemalloc.start()
    try:
        written = write_stream_to_stdout(block for _ in range(256))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        sink.close()
    assert written == 256 * _output.CHUNK
    assert peak < 4 * _output.CHUNK  # 256 MiB went through; a few chunks at most were held


def test_text_only_stdout_decodes_across_chunk_boundaries(monkeypatch):
    text = io.StringIO()
    monkeypatch.setattr(sys, "stdout", text)
    assert write_stream_to_stdout([b"caf\xc3", b"\xa9 ok"]) == 8
    assert text.getvalue() == "café ok"


def test_stdout_reader_going_away_ends_quietly(tmp_path):
    code = ("from azext_devopstoken._output import write_stream_to_stdout\n"
            "write_stream_to_stdout(b'line\\n' * 10000 for _ in range(1000))\n")
    result = subprocess.run("%s -c \"$CODE\" | head -c 20" % sys.executable, shell=True, cwd=REPO,
                            env=dict(os.environ, CODE=code), capture_output=True, timeout=120, check=False)
    assert result.stdout == b"line\n" * 4
    assert result.stderr == b""
