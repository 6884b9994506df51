"""Soak: one large file between two device agents through the real hub,
with the receiver killed (SIGKILL) and restarted twice on the way; checks
the SHA-256 and reports the rate and the hub's peak memory.  Not part of
ctest (it takes minutes and GiBs of disk); run it by hand:

    ALLSCENE_BIN=build/allscene /usr/bin/python3 tests/soak/file_transfer.py [--mib 1024]
"""

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from test_auth import cli  # noqa: E402
from test_ecosystem import Agent  # noqa: E402


def hub_peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="allscene-soak-")
    hub = harness.Hub("--http", "127.0.0.1:%d" % harness.free_port())
    agents = []
    try:
        cli(hub.data_dir, "user", "add", "ana")
        hub.start()
        for device in ("phone", "laptop"):
            os.makedirs(os.path.join(work, device))
            agents.append(Agent(hub, "ana", device, device,
                                state_dir=os.path.join(work, device)))
        phone, laptop = agents
        path = os.path.join(work, "big.bin")
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for _ in range(args.mib):
                block = os.urandom(1 << 20)
                digest.update(block)
                f.write(block)
        size = args.mib << 20
        started = time.monotonic()
        phone.proc.stdin.write(("send laptop %s\n" % path).encode())
        phone.proc.stdin.flush()
        for fraction in (0.3, 0.6):
            laptop.wait_for(lambda e: e["event"] == "progress" and e["bytes"] >= size * fraction,
                            timeout=1800, what="%d%% of the file" % (fraction * 100))
            laptop.kill()
            laptop.start()
            print("receiver killed and restarted at %d%%" % (fraction * 100), flush=True)
        done = laptop.wait_for(lambda e: e["event"] == "transfer" and e["state"] == "complete",
                               timeout=3600, what="the file complete")
        seconds = time.monotonic() - started
        got = hashlib.sha256()
        with open(done["path"], "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                got.update(block)
        ok = got.hexdigest() == digest.hexdigest()
        print("%d MiB in %.1f s (%.0f MiB/s) with two receiver kills; SHA-256 %s; "
              "hub peak RSS %d MiB" % (args.mib, seconds, args.mib / seconds,
                                        "matches" if ok else "DIFFERS",
                                        hub_peak_rss_kib(hub.proc.pid) // 1024))
        return 0 if ok else 1
    finally:
        for agent in agents:
            agent.stop()
        hub.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
