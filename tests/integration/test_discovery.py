"""Zero-configuration discovery (docs/discovery.md): the real hub announces
_allscene._tcp over mDNS/DNS-SD and `allscene discover --json` finds it;
python3-zeroconf (an independent mDNS implementation) checks both sides:
it browses what the hub announces, and announces what the CLI must find.

Multicast needs an interface that carries it. The module runs itself again
inside a network namespace of its own (`unshare --net`: a fresh namespace
with only its loopback, gone with its last process, so nothing on the host
changes and no address outside 127.0.0.0/8 is used), where it turns on
multicast on lo and routes 224.0.0.0/4 there. Where namespaces cannot be
made (no CAP_SYS_ADMIN and no user namespaces) it prints why and skips.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

IN_NAMESPACE_ENV = "ALLSCENE_DISCOVERY_NETNS"
SERVICE = "_allscene._tcp.local."
# mDNS answers come within about a second (RFC 6762 6); this leaves room
# for a loaded CI machine without making the test slow.
BROWSE = "2500ms"


def run_in_namespace():
    """Runs this module in a new network namespace; returns its exit code."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        print("test_discovery skipped: needs unshare (util-linux) and ip (iproute2); "
              "scripts/install-deps.sh installs them")
        return 0
    attempts = [["unshare", "--net"], ["unshare", "--user", "--map-root-user", "--net"]]
    for prefix in attempts:
        probe = subprocess.run(prefix + ["true"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=30)
        if probe.returncode == 0:
            env = dict(os.environ, **{IN_NAMESPACE_ENV: "1"})
            child = subprocess.run(prefix + [sys.executable, os.path.abspath(__file__)]
                                   + sys.argv[1:], env=env, timeout=280)
            return child.returncode
        why = probe.stderr.decode(errors="replace").strip()
    print("test_discovery skipped: cannot create a network namespace for multicast on "
          "loopback (needs CAP_SYS_ADMIN or user namespaces): %s" % why)
    return 0


def setup_loopback_multicast():
    """Inside our own namespace only: lo up, multicast on, 224/4 via lo."""
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "link", "set", "lo", "multicast", "on"],
                ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"]):
        subprocess.run(cmd, check=True, timeout=10)


if __name__ == "__main__" and not os.environ.get(IN_NAMESPACE_ENV):
    sys.exit(run_in_namespace())

import harness  # noqa: E402  (only inside the namespace)
from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf  # noqa: E402


def write_config(directory, announce, instance):
    path = os.path.join(directory, "discovery.toml")
    with open(path, "w") as f:
        f.write('[discovery]\nannounce = "%s"\ninstance = "%s"\n\n[auth]\nhub_host = "hub.test"\n'
                % (announce, instance))
    return path


def discover(*args, timeout=30):
    """Runs `allscene discover`; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([harness.hub_binary(), "discover", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def discover_json():
    code, out, err = discover("--json", "--timeout", BROWSE)
    if code != 0:
        raise AssertionError("allscene discover exited %d: %s" % (code, err))
    return json.loads(out)


def unique_name(what):
    return "%s %s" % (what, uuid.uuid4().hex[:6])


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="allscene-disc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.hubs = []

    def tearDown(self):
        for hub in self.hubs:
            hub.cleanup()

    def start_hub(self, announce, instance):
        config = write_config(tempfile.mkdtemp(dir=self.tmp), announce, instance)
        http_port = harness.free_port()
        hub = harness.Hub("-c", config, "--http", "127.0.0.1:%d" % http_port,
                          data_dir=tempfile.mkdtemp(dir=self.tmp))
        hub.http_port = http_port
        self.hubs.append(hub)
        return hub.start()

    def wait_announced(self, hub, name):
        line = "discovery: announced as '%s'" % name
        if not harness.log_shows(hub.log_path, line, timeout=15):
            self.fail("hub never logged %r\n%s" % (line, hub.log_tail()))

    def zeroconf(self):
        zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        self.addCleanup(zc.close)
        return zc

    # --- the hub announces, the CLI (the SDK's discover_hubs) finds it

    def test_cli_finds_a_hub_forced_on_over_loopback(self):
        name = unique_name("it hub")
        hub = self.start_hub("on", name)
        self.wait_announced(hub, name)
        found = [h for h in discover_json() if h["name"] == name]
        self.assertEqual(len(found), 1, found)
        h = found[0]
        self.assertEqual(h["port"], hub.port)  # SRV
        self.assertEqual(h["mqtt"], hub.port)
        self.assertIsNone(h["tls"])
        self.assertEqual(h["http"], hub.http_port)
        self.assertIsNone(h["https"])
        self.assertEqual(h["hub"], "hub.test")
        self.assertIn("127.0.0.1", h["addresses"])
        self.assertTrue(h["host"].endswith(".local"), h["host"])
        self.assertEqual(h["txt"], {"v": "1", "mqtt": str(hub.port),
                                    "http": str(hub.http_port), "hub": "hub.test"})
        # The text form names it too.
        code, out, _ = discover("--timeout", BROWSE)
        self.assertEqual(code, 0)
        self.assertIn(name, out)
        self.assertIn("mqtt %d" % hub.port, out)

    def test_independent_browser_sees_the_hub(self):
        name = unique_name("zc sees")
        hub = self.start_hub("on", name)
        self.wait_announced(hub, name)
        info = self.zeroconf().get_service_info(SERVICE, "%s.%s" % (name, SERVICE), timeout=5000)
        self.assertIsNotNone(info, "python3-zeroconf did not resolve %r" % name)
        self.assertEqual(info.port, hub.port)
        self.assertEqual(info.properties, {b"v": b"1", b"mqtt": str(hub.port).encode(),
                                           b"http": str(hub.http_port).encode(),
                                           b"hub": b"hub.test"})
        self.assertIn("127.0.0.1", info.parsed_addresses())
        self.assertTrue(info.server.endswith(".local."), info.server)

    def test_goodbye_when_the_hub_stops(self):
        name = unique_name("goodbye")
        events = queue.Queue()

        def on_change(zeroconf, service_type, name, state_change):
            events.put((state_change, name))

        zc = self.zeroconf()
        browser = ServiceBrowser(zc, SERVICE, handlers=[on_change])
        self.addCleanup(browser.cancel)
        hub = self.start_hub("on", name)
        self.wait_announced(hub, name)
        full = "%s.%s" % (name, SERVICE)

        def wait_for(state, timeout):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    change, who = events.get(timeout=deadline - time.monotonic())
                except queue.Empty:
                    break
                if who == full and change == state:
                    return True
            return False

        self.assertTrue(wait_for(ServiceStateChange.Added, 10), "never added")
        self.assertEqual(hub.stop(), 0)
        # TTL 0 records: removed about a second after the goodbye (RFC 6762
        # 10.1), long before the 75-minute TTL of a hub that just vanished.
        self.assertTrue(wait_for(ServiceStateChange.Removed, 5), "no goodbye seen")

    def test_second_hub_with_the_same_name_is_renamed(self):
        name = unique_name("twin")
        first = self.start_hub("on", name)
        self.wait_announced(first, name)
        second = self.start_hub("on", name)
        self.wait_announced(second, name + " #2")
        self.assertTrue(harness.log_shows(second.log_path, "name taken, now trying"))
        by_name = {h["name"]: h for h in discover_json()}
        self.assertEqual(by_name[name]["mqtt"], first.port)
        self.assertEqual(by_name[name + " #2"]["mqtt"], second.port)

    # --- a device finds the hub by itself

    def test_a_device_agent_joins_the_hub_it_finds(self):
        name = unique_name("agent finds")
        hub = self.start_hub("on", name)
        self.wait_announced(hub, name)
        subprocess.run([harness.hub_binary(), "user", "add", "ana", "--data-dir", hub.data_dir],
                       check=True, stdout=subprocess.DEVNULL, timeout=30)
        proc = subprocess.run(
            [harness.hub_binary(), "device", "run", "--join", "ana", "--data-dir", hub.data_dir,
             "--id", "phone", "--class", "phone", "--hub", "auto", "--hub-name", name,
             "--state-dir", os.path.join(self.tmp, "agent"), "--json", "--exec", "devices"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        found = [e for e in events if e["event"] == "discovered"]
        self.assertEqual(found, [{"event": "discovered", "hub": "127.0.0.1:%d" % hub.port}])
        # It signed in with the hub's own host name (hub.test) in its token.
        result = [e for e in events if e["event"] == "result" and e["command"] == "devices"][0]
        self.assertEqual([d["deviceId"] for d in result["data"]["devices"]], ["phone"])
        # A name nobody announces: a clear refusal.
        proc = subprocess.run(
            [harness.hub_binary(), "device", "run", "--connection-string",
             "HostName=hub.test;DeviceId=phone;SharedAccessKey=" + "A" * 44, "--hub", "auto",
             "--hub-name", "no such hub", "--exec", "devices"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b'no hub named "no such hub" announced itself', proc.stderr)

    # --- auto mode: a loopback-only hub stays quiet

    def test_auto_does_not_announce_a_loopback_only_hub(self):
        name = unique_name("quiet")
        hub = self.start_hub("auto", name)
        self.assertTrue(harness.log_shows(hub.log_path, "discovery: not announced", timeout=10),
                        hub.log_tail())
        self.assertEqual([h for h in discover_json() if h["name"] == name], [])
        code, out, _ = discover("--timeout", "500ms")
        self.assertEqual(code, 0)
        self.assertNotIn(name, out)

    def test_bad_announce_value_stops_start_up(self):
        config = write_config(self.tmp, "maybe", "x")
        proc = subprocess.run([harness.hub_binary(), "hub", "-c", config, "--data-dir",
                               os.path.join(self.tmp, "data"), "--listen", "127.0.0.1:0",
                               "--http", "off"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"[discovery] announce 'maybe'", proc.stderr)

    # --- an independent announcer, found by the CLI

    def test_cli_finds_an_independent_announcer_and_skips_other_versions(self):
        zc = self.zeroconf()
        good, future = unique_name("zc hub"), unique_name("zc v2")
        infos = [
            ServiceInfo(SERVICE, "%s.%s" % (good, SERVICE), port=1999, server="zc-hub.local.",
                        addresses=[bytes([127, 0, 0, 1])],
                        properties={"v": "1", "mqtt": "1999", "tls": "8999", "hub": "zc.test",
                                    "extra": "kept"}),
            ServiceInfo(SERVICE, "%s.%s" % (future, SERVICE), port=2999, server="zc-hub.local.",
                        addresses=[bytes([127, 0, 0, 1])], properties={"v": "2", "mqtt": "2999"}),
        ]
        for info in infos:
            zc.register_service(info)
            self.addCleanup(zc.unregister_service, info)
        by_name = {h["name"]: h for h in discover_json()}
        self.assertNotIn(future, by_name)
        self.assertIn(good, by_name, by_name)
        h = by_name[good]
        self.assertEqual(h["host"], "zc-hub.local")
        self.assertEqual(h["addresses"], ["127.0.0.1"])
        self.assertEqual((h["port"], h["mqtt"], h["tls"], h["http"]), (1999, 1999, 8999, None))
        self.assertEqual(h["hub"], "zc.test")
        self.assertEqual(h["txt"]["extra"], "kept")

    def test_timeout_option_is_checked(self):
        code, _, err = discover("--timeout", "soon")
        self.assertNotEqual(code, 0)
        self.assertIn("--timeout", err)


if __name__ == "__main__":
    setup_loopback_multicast()
    program = unittest.main(verbosity=2, exit=False)
    harness._kill_leftovers()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skips interpreter teardown, where zeroconf's event loop, already
    # closed, prints a spurious "Exception ignored" traceback.
    os._exit(0 if program.result.wasSuccessful() else 1)
