"""The cross-device ecosystem end to end: one hub, one person's devices of
every class run as real device agents (`allscene device run --json`), a
second person's device, and paho clients as independent devices.

Each agent registers itself on the hub (--join, through the running hub's
admin endpoint), joins its owner's group and prints one JSON object per
line; the test types commands on its stdin and reads what every agent
prints.  Wire scheme: docs/protocol.md, "Cross-device ecosystem".
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness
import mqttproto as mp
from test_auth import azure_username, cli, sas_token

START_TIMEOUT = 40.0


class Agent:
    """One `allscene device run` process and everything it printed."""

    def __init__(self, hub, owner, device_class, device_id, *extra, state_dir):
        self.id = device_id
        self.hub = hub
        self.args = [harness.hub_binary(), "device", "run", "--join", owner,
                     "--data-dir", hub.data_dir, "--id", device_id, "--class", device_class,
                     "--name", "%s's %s" % (owner, device_class),
                     "--hub", "%s:%d" % (harness.HOST, hub.port), "--json",
                     "--state-dir", state_dir] + [str(a) for a in extra]
        self.state_dir = state_dir
        self.events = []  # (monotonic time, event)
        self.cv = threading.Condition()
        self.proc = None
        self.start()

    def start(self):
        with self.cv:
            self.events = []
        self._stderr = open(os.path.join(self.state_dir, "agent.log"), "ab")
        self.proc = harness.track(subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True))
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        self.wait_for(lambda e: e["event"] == "ready", START_TIMEOUT, what="ready")

    def _read(self, proc):
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "unparsed", "line": line.decode("utf-8", "replace")}
            with self.cv:
                self.events.append((time.monotonic(), event))
                self.cv.notify_all()

    def mark(self):
        with self.cv:
            return len(self.events)

    def wait_for(self, predicate, timeout=10.0, since=0, what="an event"):
        """The first event from index `since` that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for _, event in self.events[since:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._pending()):
                    raise AssertionError("%s: no %s within %.0f s; last events: %s"
                                         % (self.id, what, timeout,
                                            [e for _, e in self.events[-8:]]))
                self.cv.wait(min(left, 0.2))

    def _pending(self):
        return False

    def events_since(self, since, kind):
        with self.cv:
            return [e for _, e in self.events[since:] if e["event"] == kind]

    def times_since(self, since, predicate):
        with self.cv:
            return [t for t, e in self.events[since:] if predicate(e)]

    def command(self, line, timeout=20.0):
        """Types a command; its result event (ok or not)."""
        since = self.mark()
        name = line.split()[0]
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        return self.wait_for(lambda e: e["event"] == "result" and e["command"] == name,
                             timeout, since, what="result of " + line)

    def ok(self, line, timeout=20.0):
        result = self.command(line, timeout)
        if not result["ok"]:
            raise AssertionError("%s: %s failed: %s" % (self.id, line, result))
        return result.get("data", {})

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


ANA = [("phone", "phone", ()),
       ("laptop", "laptop", ("--command", "lock=echo locked", "--allow", "lock=phone")),
       ("tablet", "tablet", ()),
       ("screen", "smart-screen", ("--no-clipboard",)),
       ("watch", "wearable", ("--battery", 62)),
       ("speaker", "audio", ()),
       ("car", "car", ()),
       ("lamp", "iot", ("--decline-files",))]


class EcosystemTest(harness.HubTestCase):
    """Ana's eight devices and Bob's laptop on one hub."""

    @classmethod
    def setUpClass(cls):
        cls.http_port = harness.free_port()
        cls.hub = harness.Hub("--http", "%s:%d" % (harness.HOST, cls.http_port))
        cli(cls.hub.data_dir, "user", "add", "ana")
        cli(cls.hub.data_dir, "user", "add", "bob")
        cls.hub.start()
        cls.work = tempfile.mkdtemp(prefix="allscene-eco-")
        cls.agents = {}
        try:
            for device_id, device_class, extra in ANA:
                cls.agents[device_id] = cls.new_agent("ana", device_class, device_id, *extra)
            cls.bob = cls.new_agent("bob", "laptop", "bobs-laptop")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def new_agent(cls, owner, device_class, device_id, *extra):
        state = os.path.join(cls.work, device_id)
        os.makedirs(state, exist_ok=True)
        return Agent(cls.hub, owner, device_class, device_id, *extra, state_dir=state)

    @classmethod
    def tearDownClass(cls):
        for agent in list(getattr(cls, "agents", {}).values()) + [getattr(cls, "bob", None)]:
            if agent is not None:
                agent.stop()
        shutil.rmtree(getattr(cls, "work", ""), ignore_errors=True)
        super().tearDownClass()

    def agent(self, device_id):
        return self.agents[device_id]

    def others(self, *but):
        return [a for i, a in self.agents.items() if i not in but]

    # ---- the device group ------------------------------------------------------

    def test_every_device_sees_its_owners_group_and_nothing_else(self):
        for agent in self.agents.values():
            devices = {d["deviceId"]: d for d in agent.ok("devices")["devices"]}
            self.assertEqual(set(devices), set(self.agents), agent.id)
            self.assertTrue(all(d["online"] for d in devices.values()), devices)
        watch = {d["deviceId"]: d for d in self.agent("phone").ok("devices")["devices"]}["watch"]
        self.assertEqual(watch["class"], "wearable")
        self.assertEqual(watch["battery"], 62)
        self.assertIn("clipboard", watch["capabilities"])
        laptop = {d["deviceId"]: d for d in self.agent("tablet").ok("devices")["devices"]}["laptop"]
        self.assertEqual(laptop["commands"]["lock"]["allow"], ["phone"])
        bobs = {d["deviceId"] for d in self.bob.ok("devices")["devices"]}
        self.assertEqual(bobs, {"bobs-laptop"})

    def test_battery_and_presence_changes_reach_the_group_live(self):
        phone = self.agent("phone")
        since = phone.mark()
        self.agent("car").ok("battery 17 charging")
        card = phone.wait_for(lambda e: e["event"] == "device"
                              and e["device"]["deviceId"] == "car"
                              and e["device"]["battery"] == 17, since=since)["device"]
        self.assertTrue(card["charging"])

    # ---- clipboard ---------------------------------------------------------------

    def test_clipboard_reaches_every_sharing_device_fast_and_never_another_user(self):
        phone = self.agent("phone")
        sharing = [a for a in self.others("phone", "screen")]
        bob_mark = self.bob.mark()
        screen_mark = self.agent("screen").mark()
        latencies = []
        for i in range(20):
            text = "clip %d %s" % (i, self.prefix)
            marks = {a.id: a.mark() for a in sharing}
            sent = time.monotonic()
            phone.ok("copy " + json.dumps(text))
            for a in sharing:
                a.wait_for(lambda e: e["event"] == "clipboard" and e.get("text") == text,
                           since=marks[a.id], what="clipboard " + text)
                arrived = a.times_since(marks[a.id], lambda e: e["event"] == "clipboard"
                                        and e.get("text") == text)[0]
                latencies.append(arrived - sent)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        # Copy to arrival on 7 devices, through the agents' stdout: reported,
        # not a pass mark (speed targets live in bench/).
        print("\nclipboard copy->arrival over %d arrivals: p50 %.1f ms, p99 %.1f ms"
              % (len(latencies), latencies[len(latencies) // 2] * 1000, p99 * 1000))
        self.assertEqual(self.agent("tablet").ok("paste")["text"], "clip 19 %s" % self.prefix)
        # Opted out: the screen neither receives nor can copy.
        self.assertEqual(self.agent("screen").events_since(screen_mark, "clipboard"), [])
        self.assertFalse(self.agent("screen").command("copy nope")["ok"])
        self.assertEqual(self.bob.events_since(bob_mark, "clipboard"), [])

    def test_an_image_on_the_clipboard(self):
        image = os.path.join(self.work, "pixel.png")
        with open(image, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
        since = self.agent("laptop").mark()
        self.agent("tablet").ok("copy-image %s image/png" % image)
        got = self.agent("laptop").wait_for(lambda e: e["event"] == "clipboard"
                                            and e["mime"] == "image/png", since=since)
        self.assertEqual(got["size"], 3008)

    # ---- notifications -----------------------------------------------------------

    def test_notifications_mirror_route_actions_back_and_dismiss_everywhere(self):
        phone, laptop, watch = self.agent("phone"), self.agent("laptop"), self.agent("watch")
        marks = {a.id: a.mark() for a in self.agents.values()}
        nid = "n-" + self.prefix.replace("/", "-")
        phone.ok("notify 'Dinner?' 'Tonight at 8' --app messages --id %s --action yes:Yes --reply"
                 % nid)
        for a in self.others("phone"):
            n = a.wait_for(lambda e: e["event"] == "notification" and e["id"] == nid
                           and not e["dismissed"], since=marks[a.id])
            self.assertEqual((n["origin"], n["title"], n["app"]), ("phone", "Dinner?", "messages"))
        since = phone.mark()
        watch.ok("act phone %s yes" % nid)
        action = phone.wait_for(lambda e: e["event"] == "notification-action", since=since)
        self.assertEqual((action["from"], action["action"], action["known"]), ("watch", "yes", True))
        laptop.ok("act phone %s reply 'see you then'" % nid)
        reply = phone.wait_for(lambda e: e["event"] == "notification-action"
                               and e["action"] == "reply", since=since)
        self.assertEqual(reply["text"], "see you then")
        self.assertFalse(watch.command("act phone no-such-notification yes")["ok"])
        marks = {a.id: a.mark() for a in self.agents.values()}
        laptop.ok("dismiss phone %s" % nid)
        for a in self.agents.values():
            a.wait_for(lambda e: e["event"] == "notification" and e["id"] == nid
                       and e["dismissed"], since=marks[a.id], what="dismissal")
        self.assertNotIn(nid, [n["id"] for n in self.agent("tablet").ok("notifications")
                               ["notifications"]])

    # ---- handoff -----------------------------------------------------------------

    def test_an_activity_continues_on_another_device_with_its_state(self):
        laptop, tablet = self.agent("laptop"), self.agent("tablet")
        since = tablet.mark()
        laptop.ok('activity editor "Trip notes" file:///notes.txt \'{"cursor": 42}\'')
        tablet.wait_for(lambda e: e["event"] == "activity" and e["deviceId"] == "laptop"
                        and not e["ended"], since=since)
        self.assertIn("laptop", [a["deviceId"] for a in tablet.ok("activities")["activities"]])
        laptop_mark = laptop.mark()
        taken = tablet.ok("continue laptop")
        self.assertEqual((taken["app"], taken["uri"], taken["state"]),
                         ("editor", "file:///notes.txt", {"cursor": 42}))
        laptop.wait_for(lambda e: e["event"] == "handoff", since=laptop_mark)
        self.agent("phone").wait_for(lambda e: e["event"] == "activity"
                                     and e["deviceId"] == "laptop" and e["ended"])
        self.assertFalse(tablet.command("continue laptop")["ok"])  # nothing left to continue

    # ---- media ---------------------------------------------------------------------

    def test_any_device_controls_the_speaker(self):
        speaker, phone = self.agent("speaker"), self.agent("phone")
        since = phone.mark()
        speaker.ok('play "Song A" "Song B" "Song C"')
        phone.wait_for(lambda e: e["event"] == "media" and e["deviceId"] == "speaker"
                       and e["title"] == "Song A", since=since)
        self.assertEqual(phone.ok("control speaker next")["title"], "Song B")
        self.assertEqual(phone.ok("control speaker pause")["state"], "paused")
        self.assertEqual(self.agent("watch").ok("control speaker volume 30")["volume"], 30)
        self.assertEqual(self.agent("watch").ok("control speaker previous")["title"], "Song A")
        self.assertFalse(phone.command("control speaker volume 300")["ok"])
        media = {m["deviceId"]: m for m in self.agent("tablet").ok("media")["media"]}
        self.assertEqual((media["speaker"]["state"], media["speaker"]["volume"]), ("paused", 30))

    # ---- find my device, remote commands, sharing ------------------------------

    def test_ring_my_watch(self):
        watch = self.agent("watch")
        since = watch.mark()
        self.agent("phone").ok("ring watch")
        ring = watch.wait_for(lambda e: e["event"] == "ring", since=since)
        self.assertEqual((ring["from"], ring["stop"]), ("phone", False))
        self.agent("phone").ok("ring-stop watch")
        watch.wait_for(lambda e: e["event"] == "ring" and e["stop"], since=since)

    def test_remote_commands_follow_the_allow_list(self):
        out = self.agent("phone").ok("run laptop lock")
        self.assertEqual(out["output"].strip(), "locked")
        refused = self.agent("tablet").command("run laptop lock")
        self.assertFalse(refused["ok"])
        self.assertFalse(self.agent("phone").command("run laptop reboot")["ok"])

    def test_share_a_url(self):
        laptop = self.agent("laptop")
        since = laptop.mark()
        self.agent("phone").ok("share laptop https://example.org/trip")
        got = laptop.wait_for(lambda e: e["event"] == "share", since=since)
        self.assertEqual((got["from"], got["url"]), ("phone", "https://example.org/trip"))

    # ---- isolation -----------------------------------------------------------------

    def test_another_users_device_cannot_reach_anas(self):
        for line in ("ring phone", "run laptop lock", "share phone hi", "control speaker pause"):
            self.assertFalse(self.bob.command(line)["ok"], line)
        path = os.path.join(self.work, "bob.txt")
        with open(path, "w") as f:
            f.write("hello")
        self.assertFalse(self.bob.command("send phone %s" % path)["ok"])

    # ---- files ---------------------------------------------------------------------

    def test_64_mib_file_survives_the_receiver_being_killed(self):
        phone, laptop = self.agent("phone"), self.agent("laptop")
        path = os.path.join(self.work, "big.bin")
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for _ in range(64):
                block = os.urandom(1 << 20)
                digest.update(block)
                f.write(block)
        since = laptop.mark()
        phone.proc.stdin.write(("send laptop %s\n" % path).encode())
        phone.proc.stdin.flush()
        laptop.wait_for(lambda e: e["event"] == "progress" and e["bytes"] >= 16 << 20,
                        timeout=120, since=since, what="a quarter of the file")
        laptop.kill()  # kill -9 mid-transfer
        laptop.start()  # same state directory: resumes
        done = laptop.wait_for(lambda e: e["event"] == "transfer" and e["state"] == "complete",
                               timeout=180, what="the file complete")
        result = phone.wait_for(lambda e: e["event"] == "result" and e["command"] == "send",
                                timeout=60)
        self.assertTrue(result["ok"], result)
        with open(done["path"], "rb") as f:
            got = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 20), b""):
                got.update(block)
        self.assertEqual(got.hexdigest(), digest.hexdigest())

    def test_a_declined_file_and_a_file_to_everyone(self):
        path = os.path.join(self.work, "note.txt")
        with open(path, "w") as f:
            f.write("to everyone\n" * 1000)
        self.assertFalse(self.agent("tablet").command("send lamp %s" % path)["ok"])
        result = self.agent("tablet").command("send all %s" % path, timeout=60)
        states = {t["peer"]: t["state"] for t in result["data"]["transfers"]}
        self.assertEqual(states.pop("lamp"), "declined")
        self.assertEqual(set(states.values()), {"complete"}, states)
        self.assertEqual(set(states), set(self.agents) - {"tablet", "lamp"})

    # ---- bad input -----------------------------------------------------------------

    def test_malformed_feature_messages_disturb_nobody(self):
        keys = json.loads(cli(self.hub.data_dir, "device", "add", "rogue", "--owner", "ana",
                              "--json").stdout)["credentials"]
        rogue = self.paho("rogue", mp.V311, connect=False)
        rogue.connect(username=azure_username("rogue"),
                      password=sas_token("rogue", keys["primary_key"], int(time.time()) + 600))
        rogue.subscribe("$ecosystem/res/#", 0)
        marks = {a.id: a.mark() for a in self.agents.values()}
        for topic, payload in [("users/ana/clipboard", b"{not json"),
                               ("users/ana/clipboard", b'{"text": 5}'),
                               ("users/ana/notifications/rogue/x", b"[1,2]"),
                               ("users/ana/activities/rogue", b"\xff\xfe"),
                               ("users/ana/media/rogue", b'{"volume": "loud"}'),
                               ("users/ana/inbox/laptop/file-read", b'{"transfer": 1}'),
                               ("users/ana/inbox/phone/file-data/nope/0", b"zzz")]:
            rogue.publish(topic, payload, qos=1)
        rogue.publish("$ecosystem/call/phone/ring/?$rid=1", b"{bad", qos=0)
        answer = rogue.expect(timeout=5)
        self.assertEqual(answer.topic, "$ecosystem/res/400/?$rid=1")
        # Cards are the hub's: a device cannot forge one (§ access control).
        rogue.publish("users/ana/devices/phone", b'{"deviceId":"phone","online":false}', qos=1)
        text = "after the garbage " + self.prefix
        self.agent("phone").ok("copy %s" % json.dumps(text))
        for a in self.others("phone", "screen"):
            a.wait_for(lambda e: e["event"] == "clipboard" and e.get("text") == text,
                       since=marks[a.id])
        phone_card = {d["deviceId"]: d for d in self.agent("tablet").ok("devices")["devices"]}
        self.assertTrue(phone_card["phone"]["online"])
        rogue.publish("users/ana/clipboard", b"", qos=1, retain=True)  # leave no garbage
        cli(self.hub.data_dir, "device", "remove", "rogue")
        for a in self.agents.values():
            self.assertIsNone(a.proc.poll(), a.id + " died")


if __name__ == "__main__":
    unittest.main()
