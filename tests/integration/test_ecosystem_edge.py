"""One person's devices split between a home (edge) hub and the cloud hub
it is bridged to: the shared-state features cross the bridge both ways, the
home keeps working while the cloud is down, and what was shared meanwhile
arrives when the link returns.  Device agents as in test_ecosystem.

The edge signs in to the cloud as a registered gateway device of Ana's
("home-hub", SAS from its connection string) and mirrors users/ana/# both
ways (docs/operations.md, "Edge hub and bridges"): each hub's device cards
reach the other, and a call to a device on the other hub is relayed
(docs/protocol.md, "Calls between bridged hubs").
"""

import json
import os
import shutil
import tempfile
import time
import unittest

import harness
import mqttproto as mp
from test_auth import azure_username, cli, sas_token
from test_ecosystem import Agent

EDGE_CONFIG = """
[http]
bind = "127.0.0.1:{http_port}"

[[bridge]]
name = "cloud"
address = "mqtt://127.0.0.1:{cloud_port}"
connection_string = "{connection_string}"
reconnect_min_ms = 200
reconnect_max_ms = 1000

[[bridge.rule]]
pattern = "users/ana/#"
direction = "both"

[[bridge.rule]]
pattern = "$hubs/ana/#"
direction = "both"

[[bridge.rule]]
pattern = "devices/+/messages/events/#"
direction = "out"
"""


class EdgeEcosystemTest(unittest.TestCase):

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="allscene-edge-eco-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.cloud_port = harness.free_port()
        self.cloud = self.hub("cloud", port=self.cloud_port,
                              args=("--http", "127.0.0.1:%d" % harness.free_port()))
        cli(self.cloud.data_dir, "user", "add", "ana")
        added = cli(self.cloud.data_dir, "device", "add", "home-hub", "--owner", "ana",
                    "--gateway").stdout
        connection_string = "HostName=" + added.split("HostName=")[1].split()[0]
        config = os.path.join(self.work, "edge.toml")
        with open(config, "w") as f:
            f.write(EDGE_CONFIG.format(http_port=harness.free_port(), cloud_port=self.cloud_port,
                                       connection_string=connection_string))
        self.edge = self.hub("edge", args=("-c", config))
        cli(self.edge.data_dir, "user", "add", "ana")
        self.cloud.start()
        self.edge.start()
        self.assertTrue(harness.log_shows(self.edge.log_path, " up as client ", timeout=10),
                        self.edge.log_tail())
        self.phone = self.agent(self.cloud, "phone", "phone")      # away, on the cloud hub
        self.laptop = self.agent(self.edge, "laptop", "laptop",    # at home
                                 "--command", "lock=echo locked", "--allow", "lock=phone")
        self.speaker = self.agent(self.edge, "speaker", "audio")   # at home

    def hub(self, name, port=None, args=()):
        data_dir = os.path.join(self.work, name)
        os.makedirs(data_dir)
        hub = harness.Hub(*args, port=port, data_dir=data_dir)
        self.addCleanup(hub.cleanup)
        return hub

    def agent(self, hub, device_id, device_class, *extra):
        state = os.path.join(self.work, "agent-" + device_id)
        os.makedirs(state, exist_ok=True)
        a = Agent(hub, "ana", device_class, device_id, *extra, state_dir=state)
        self.addCleanup(a.stop)
        return a

    def test_shared_state_crosses_the_bridge_both_ways(self):
        since = self.phone.mark()
        self.laptop.ok('copy "from home"')
        self.phone.wait_for(lambda e: e["event"] == "clipboard" and e.get("text") == "from home",
                            since=since)
        since = self.speaker.mark()
        self.phone.ok('copy "from the road"')
        self.speaker.wait_for(lambda e: e["event"] == "clipboard"
                              and e.get("text") == "from the road", since=since)
        since = self.laptop.mark()
        self.phone.ok('notify "Parcel" "delivered" --id parcel')
        self.laptop.wait_for(lambda e: e["event"] == "notification" and e["id"] == "parcel"
                             and not e["dismissed"], since=since)
        self.laptop.ok("dismiss phone parcel")  # dismissed at home, gone on the road
        self.phone.wait_for(lambda e: e["event"] == "notification" and e["id"] == "parcel"
                            and e["dismissed"])
        since = self.phone.mark()
        self.speaker.ok('play "Night Train"')
        self.phone.wait_for(lambda e: e["event"] == "media" and e["deviceId"] == "speaker"
                            and e["title"] == "Night Train", since=since)

    def test_the_group_spans_both_hubs(self):
        for agent in (self.phone, self.laptop, self.speaker):
            seen = lambda: {d["deviceId"] for d in agent.ok("devices")["devices"]}
            self.assertTrue(harness.wait_until(lambda: seen() >= {"phone", "laptop", "speaker"},
                                               10), (agent.id, seen()))

    def test_calls_cross_the_bridge_both_ways(self):
        self.test_the_group_spans_both_hubs()
        since = self.speaker.mark()
        self.phone.ok("ring speaker")  # cloud -> edge
        ring = self.speaker.wait_for(lambda e: e["event"] == "ring", since=since)
        self.assertEqual(ring["from"], "phone")
        self.speaker.ok('play "Song A" "Song B"')
        self.assertEqual(self.phone.ok("control speaker next")["title"], "Song B")
        since = self.phone.mark()
        self.laptop.ok("share phone https://example.org/from-home")  # edge -> cloud
        shared = self.phone.wait_for(lambda e: e["event"] == "share", since=since)
        self.assertEqual((shared["from"], shared["url"]), ("laptop", "https://example.org/from-home"))
        self.assertFalse(self.phone.command("ring nobody")["ok"])
        # Remote commands keep their allow-list across hubs (the caller's id
        # and class travel with the relayed call): the phone, on the cloud,
        # may; the speaker, at home but not on the list, may not.
        self.assertEqual(self.phone.ok("run laptop lock")["output"], "locked")
        self.assertFalse(self.speaker.command("run laptop lock")["ok"])
        # Handoff from home to the road, with the state.
        self.laptop.ok("activity editor Notes file:///notes.md '{\"line\": 3}'")
        taken = self.phone.ok("continue laptop")
        self.assertEqual((taken["uri"], taken["state"]), ("file:///notes.md", {"line": 3}))
        # A file from the road to home: the offer is a relayed call, the
        # chunks go through the inboxes the bridge mirrors.
        path = os.path.join(self.work, "photo.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(3 << 20))
        result = self.phone.ok("send laptop %s" % path, timeout=60)
        self.assertEqual(result["state"], "complete")
        done = self.laptop.wait_for(lambda e: e["event"] == "transfer"
                                    and e["state"] == "complete")
        with open(path, "rb") as a, open(done["path"], "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_an_offline_device_on_the_other_hub_is_refused_at_once(self):
        self.test_the_group_spans_both_hubs()
        self.speaker.stop()
        self.phone.wait_for(lambda e: e["event"] == "device" and e["device"]["deviceId"] == "speaker"
                            and not e["device"]["online"], timeout=10)
        started = time.monotonic()
        self.assertFalse(self.phone.command("ring speaker")["ok"])
        self.assertLess(time.monotonic() - started, 5)

    def test_home_devices_events_reach_the_cloud(self):
        # A service on the cloud follows device-to-cloud events; the
        # speaker, registered only on the edge, sends one there (the
        # gateway may forward events of the devices it hosts).
        service = harness.PahoClient(self.cloud, "cloud-service")
        self.addCleanup(service.close)
        service.connect()
        service.subscribe("devices/+/messages/events/#", 1)
        keys = json.loads(cli(self.edge.data_dir, "device", "add", "thermostat", "--owner",
                              "ana", "--json").stdout)["credentials"]
        thermostat = harness.PahoClient(self.edge, "thermostat", mp.V311)
        self.addCleanup(thermostat.close)
        thermostat.connect(username=azure_username("thermostat"),
                           password=sas_token("thermostat", keys["primary_key"],
                                              int(time.time()) + 600))
        thermostat.publish("devices/thermostat/messages/events/kind=temp", b'{"c": 21.5}', qos=1)
        got = service.expect(timeout=10)
        self.assertEqual((got.topic, got.payload),
                         ("devices/thermostat/messages/events/kind=temp", b'{"c": 21.5}'))

    def test_home_keeps_working_while_the_cloud_is_down_and_catches_up(self):
        self.cloud.kill()  # kill -9
        since = self.speaker.mark()
        self.laptop.ok('copy "while the cloud is down"')
        self.speaker.wait_for(lambda e: e["event"] == "clipboard"
                              and e.get("text") == "while the cloud is down", since=since)
        self.laptop.ok('notify "Oven" "done" --id oven')
        self.cloud.start()
        # The phone reconnects by itself; what home shared meanwhile (QoS 1,
        # retained) arrives once the bridge's link is back.
        self.phone.wait_for(lambda e: e["event"] == "clipboard"
                            and e.get("text") == "while the cloud is down", timeout=30,
                            what="the clipboard after the outage")
        self.phone.wait_for(lambda e: e["event"] == "notification" and e["id"] == "oven",
                            timeout=30, what="the notification after the outage")
        self.assertEqual(self.phone.ok("paste")["text"], "while the cloud is down")

    def twin(self, hub, device_id):
        """The twin `allscene twin get` prints, or None (not known there)."""
        done = cli(hub.data_dir, "twin", "get", device_id, "--json", check=False)
        return json.loads(done.stdout) if done.returncode == 0 else None

    def wait_twin(self, hub, device_id, predicate, what, timeout=15):
        seen = []

        def check():
            seen[:] = [self.twin(hub, device_id)]
            return seen[0] is not None and predicate(seen[0])
        self.assertTrue(harness.wait_until(check, timeout, interval=0.2), (what, seen))
        return seen[0]

    def test_twins_cross_the_bridge_and_resynchronise_after_outages(self):
        # The speaker is registered on the edge only; the cloud mirrors its
        # twin, and a desired change made in the cloud reaches it at home.
        mirrored = self.wait_twin(self.cloud, "speaker",
                                  lambda t: "ecosystem" in t["properties"]["reported"],
                                  "the edge device's twin in the cloud")
        self.assertTrue(mirrored["mirrored"])
        self.assertIsNone(self.twin(self.cloud, "nobody"))
        forwarded = json.loads(cli(self.cloud.data_dir, "twin", "set", "speaker",
                                   '{"desired": {"volumeLimit": 70}}', "--json").stdout)
        self.assertTrue(forwarded["forwarded"])
        self.wait_twin(self.edge, "speaker",
                       lambda t: t["properties"]["desired"].get("volumeLimit") == 70,
                       "the cloud's desired change at home")
        self.wait_twin(self.cloud, "speaker",
                       lambda t: t["properties"]["desired"].get("volumeLimit") == 70,
                       "the cloud's mirror after the edge applied it")
        # The cloud hosts the phone: the edge mirrors it the same way.
        self.wait_twin(self.edge, "phone", lambda t: t.get("mirrored"), "the phone at home")

        # Cloud down: home changes its twin; the cloud has it once back.
        self.cloud.kill()
        cli(self.edge.data_dir, "twin", "set", "speaker", '{"tags": {"room": "kitchen"}}')
        self.speaker.ok("battery 42")
        self.cloud.start()
        self.wait_twin(self.cloud, "speaker",
                       lambda t: t["tags"].get("room") == "kitchen"
                       and t["properties"]["reported"]["ecosystem"]["battery"]["level"] == 42,
                       "home's changes made during the cloud outage", timeout=30)

        # Edge down: the cloud's change waits for it, then applies at home.
        self.edge.kill()
        cli(self.cloud.data_dir, "twin", "set", "speaker", '{"desired": {"night": true}}')
        self.edge.start()
        self.wait_twin(self.edge, "speaker",
                       lambda t: t["properties"]["desired"].get("night") is True,
                       "the cloud's change made during the edge outage", timeout=30)
        self.wait_twin(self.cloud, "speaker",
                       lambda t: t["properties"]["desired"].get("night") is True
                       and t["properties"]["desired"].get("volumeLimit") == 70,
                       "both hubs agreeing again", timeout=30)


if __name__ == "__main__":
    unittest.main()
