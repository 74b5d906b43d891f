"""Run the emulator from a shell: ``python -m emulator --workdir DIR [--state-file F]``.

Prints one JSON line describing the URLs and the CA bundle (also written to ``--state-file``),
then serves until SIGTERM/SIGINT, ``--max-seconds``, ``--max-requests`` or the death of
``--parent-pid``, whichever comes first.
"""
import argparse
import json
import os
import signal
import sys
import time

from emulator.app import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--workdir", required=True, help="folder for the CA bundle, certificates and state")
    parser.add_argument("--state-file", help="write the JSON description here too")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--token-lifetime", type=int, default=3600)
    parser.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    args = parser.parse_args(argv)
    emu = Emulator(args.workdir, max_seconds=args.max_seconds, max_requests=args.max_requests,
                   token_lifetime=args.token_lifetime).start()
    description = json.dumps(emu.describe())
    if args.state_file:
        tmp = args.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(description)
        os.replace(tmp, args.state_file)
    print(description, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: emu.stop("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: emu.stop("SIGINT"))
    while not emu.wait(0.5):
        if args.parent_pid and not _alive(args.parent_pid):
            emu.stop("parent %d gone" % args.parent_pid)
    print("emulator stopped: %s" % emu.stop_reason, file=sys.stderr, flush=True)
    time.sleep(0.1)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
