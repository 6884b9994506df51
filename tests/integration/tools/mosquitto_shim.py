#!/usr/bin/python3
"""Development aid: runs Debian's mosquitto behind the `allscene hub` flags.

    ALLSCENE_BIN=tests/integration/tools/mosquitto_shim.py /usr/bin/python3 test_x.py

Lets the suite itself be checked against a reference broker.  Mosquitto
2.0.11 has no equivalent for some flags (topic length/levels, subscriptions
per client, session-expiry cap) and differs from the spec in places, so some
failures here are expected; this is not part of the ctest run.
"""

import argparse
import os
import signal
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("cmd")
p.add_argument("--listen", default="127.0.0.1:1883")
p.add_argument("--data-dir", default=".")
p.add_argument("--log-level")
p.add_argument("--config")
p.add_argument("--threads")
p.add_argument("--max-packet-size")
p.add_argument("--max-topic-length")
p.add_argument("--max-topic-levels")
p.add_argument("--max-subscriptions-per-client")
p.add_argument("--max-queued-messages")
p.add_argument("--max-inflight")
p.add_argument("--max-keep-alive")
p.add_argument("--max-session-expiry")
a = p.parse_args()

host, port = a.listen.rsplit(":", 1)
conf = ["listener %s %s" % (port, host), "allow_anonymous true",
        "persistence true", "persistence_location %s/" % a.data_dir,
        "autosave_interval 1", "log_dest stderr", "log_type all"]
if a.max_packet_size:
    conf.append("max_packet_size %s" % a.max_packet_size)
if a.max_queued_messages:
    conf.append("max_queued_messages %s" % a.max_queued_messages)
if a.max_inflight:
    conf.append("max_inflight_messages %s" % a.max_inflight)
if a.max_keep_alive:
    conf.append("max_keepalive %s" % a.max_keep_alive)
path = os.path.join(a.data_dir, "mosquitto.conf")
with open(path, "w") as f:
    f.write("\n".join(conf) + "\n")


def _die_with_parent():
    import ctypes
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", path], preexec_fn=_die_with_parent)
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda sig, frame: proc.send_signal(signal.SIGTERM))
while True:
    try:
        sys.exit(proc.wait())
    except InterruptedError:
        pass
