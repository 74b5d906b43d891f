"""The emulator's listeners (emulator/server.py): they accept many connections at once, as the real front ends
do, so `devops-rest batch --parallel N` is not slowed down by SYNs dropped at a full listen queue."""
import re
import shutil
import subprocess
import threading
from urllib.parse import urlsplit

import pytest
import requests

from emulator.app import Emulator
from emulator.server import Listener


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with Emulator(str(tmp_path_factory.mktemp("server-emu")), max_seconds=300) as emulator:
        yield emulator


@pytest.mark.skipif(not shutil.which("ss"), reason="needs ss (iproute2) to read the listen backlog")
def test_every_listener_has_a_deep_listen_queue(emu):
    assert Listener.request_queue_size >= 64
    listing = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    backlog = {}  # port -> the backlog the kernel holds for it (Send-Q of a listening socket)
    for line in listing.splitlines():
        fields = line.split()
        match = re.search(r":(\d+)$", fields[3])
        if match:
            backlog[int(match.group(1))] = int(fields[2])
    ports = [urlsplit(url).port for url in emu.urls.values()]
    assert len(ports) >= 4
    assert all(backlog.get(port, 0) >= 64 for port in ports), {port: backlog.get(port) for port in ports}


def test_sixteen_connections_at_once_are_all_served(emu):
    url = emu.org_url("contoso") + "/_apis/resourceAreas"
    start, results = threading.Barrier(16), []

    def connect():
        with requests.Session() as session:
            session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would beat session.verify
            session.verify = emu.ca_bundle
            start.wait()
            results.append(session.get(url, params={"api-version": "7.1-preview.1"}, timeout=30).status_code)

    emu.log.clear()
    threads = [threading.Thread(target=connect) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 16 and all(status < 500 for status in results), results
    entries = emu.log.entries(listener="devops")
    assert len(entries) == 16 and len({entry["connection_id"] for entry in entries}) == 16
