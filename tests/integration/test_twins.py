"""Device twins and presence over the Azure IoT Hub MQTT device protocol,
against the real hub, with paho as the device (3.1.1 as Azure speaks it,
and MQTT 5).  Devices sign in with SAS tokens made here with Python's hmac.

Topics (Azure IoT Hub's device protocol): twin requests on
$iothub/twin/GET/?$rid= and $iothub/twin/PATCH/properties/reported/?$rid=,
answers on $iothub/twin/res/{status}/?$rid=R[&$version=V]; presence events
on $events/devices/{id}/presence for service clients.
"""

import json
import re
import time
import unittest

import harness
import mqttproto as mp
from test_auth import azure_username, cli, sas_token

RESPONSE = re.compile(r"^\$iothub/twin/res/(\d+)/\?\$rid=([^&]+)(?:&\$version=(\d+))?$")


class TwinDevice:
    """A paho client speaking the Azure device protocol."""

    def __init__(self, test, device_id, key, version=mp.V311, subscribe=True, hub=None):
        self.client = test.paho(device_id, version, hub=hub, connect=False)
        self.client.connect(username=azure_username(device_id),
                            password=sas_token(device_id, key, int(time.time()) + 3600))
        self.rid = 0
        if subscribe:
            self.client.subscribe("$iothub/twin/res/#", 0)

    def request(self, topic, payload=b"", timeout=5.0):
        """Publishes a twin request and returns (status, version, body)."""
        self.rid += 1
        rid = "r%d" % self.rid
        self.client.publish(topic + "?$rid=" + rid, payload, qos=0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.client.get(timeout=max(0.05, deadline - time.monotonic()))
            if m is None:
                break
            match = RESPONSE.match(m.topic)
            if match and match.group(2) == rid:
                version = int(match.group(3)) if match.group(3) else None
                return int(match.group(1)), version, m.payload
        raise AssertionError("no twin response to %s within %.1f s" % (rid, timeout))

    def get_twin(self):
        status, _, body = self.request("$iothub/twin/GET/", b" ")
        return status, json.loads(body)

    def report(self, patch):
        payload = patch if isinstance(patch, bytes) else json.dumps(patch).encode()
        return self.request("$iothub/twin/PATCH/properties/reported/", payload)


def add_devices(data_dir, owner, *devices):
    """Registers `owner` and its devices with the CLI; returns their keys."""
    cli(data_dir, "user", "add", owner)
    keys = {}
    for device in devices:
        out = json.loads(cli(data_dir, "device", "add", device, "--owner", owner, "--json").stdout)
        keys[device] = out["credentials"]["primary_key"]
    return keys


class TwinTest(harness.HubTestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub = harness.Hub()
        cls.keys = add_devices(cls.hub.data_dir, "alice", "lamp", "phone", "watch")
        cls.hub.start()

    def device(self, device_id, **kw):
        return TwinDevice(self, device_id, self.keys[device_id], **kw)

    def test_get_and_report_over_311_as_azure_speaks_it(self):
        lamp = self.device("lamp")
        status, twin = lamp.get_twin()
        self.assertEqual(status, 200)
        self.assertIn("desired", twin)
        base = twin["reported"]["$version"]
        status, version, body = lamp.report({"on": True, "brightness": 80})
        self.assertEqual((status, version, body), (204, base + 1, b""))
        status, version, _ = lamp.report({"brightness": None, "color": {"r": 255}})
        self.assertEqual((status, version), (204, base + 2))
        status, twin = lamp.get_twin()
        self.assertEqual(twin["reported"]["on"], True)
        self.assertNotIn("brightness", twin["reported"])  # null deletes (RFC 7396)
        self.assertEqual(twin["reported"]["color"], {"r": 255})
        self.assertEqual(twin["reported"]["$version"], base + 2)

    def test_mqtt5_devices_use_the_same_topics(self):
        phone = self.device("phone", version=mp.V5)
        status, version, _ = phone.report({"battery": 71})
        self.assertEqual(status, 204)
        status, twin = phone.get_twin()
        self.assertEqual((status, twin["reported"]["battery"]), (200, 71))
        self.assertEqual(twin["reported"]["$version"], version)

    def test_bad_patches_get_clear_errors_and_change_nothing(self):
        lamp = self.device("lamp")
        _, before = lamp.get_twin()
        status, _, body = lamp.report(b"{not json")
        self.assertEqual(status, 400)
        self.assertIn("JSON object", json.loads(body)["error"])
        status, _, body = lamp.report({"blob": "x" * (33 * 1024)})
        self.assertEqual(status, 413)
        self.assertIn("limit", json.loads(body)["error"])
        deep = {}
        node = deep
        for _ in range(11):
            node["n"] = {}
            node = node["n"]
        node["leaf"] = 1
        self.assertEqual(lamp.report(deep)[0], 400)
        self.assertEqual(lamp.report({"$version": 3})[0], 400)
        _, after = lamp.get_twin()
        self.assertEqual(after, before)
        # The connection is still fine for the next request.
        self.assertEqual(lamp.report({"ok": 1})[0], 204)

    def test_answers_need_the_response_subscription(self):
        watch = self.device("watch", subscribe=False)
        watch.client.publish("$iothub/twin/GET/?$rid=1", b"", qos=1)
        self.assertIsNone(watch.client.get(timeout=0.5))
        watch.client.subscribe("$iothub/twin/res/#", 0)
        self.assertEqual(watch.get_twin()[0], 200)

    def test_a_device_cannot_reach_another_devices_twin(self):
        # The connection says who asks: the topic carries no device id.
        phone = self.device("phone")
        lamp = self.device("lamp")
        lamp.report({"secret": "lamp-only"})
        _, twin = phone.get_twin()
        self.assertNotIn("secret", twin["reported"])

    def test_reported_properties_survive_a_restart(self):
        hub = harness.Hub()
        self._hubs.append(hub)
        self.addCleanup(hub.cleanup)
        key = add_devices(hub.data_dir, "bob", "fan")["fan"]
        hub.start()
        fan = TwinDevice(self, "fan", key, hub=hub)
        self.assertEqual(fan.report({"speed": 3})[0], 204)
        fan.client.close()
        hub.kill()  # a crash: what was answered 204 is on disk
        hub.start()
        fan = TwinDevice(self, "fan", key, hub=hub)
        status, twin = fan.get_twin()
        self.assertEqual((status, twin["reported"]), (200, {"speed": 3, "$version": 1}))


class PresenceEventTest(harness.HubTestCase):
    hub = None

    @classmethod
    def setUpClass(cls):
        cls.hub = harness.Hub()
        cls.key = add_devices(cls.hub.data_dir, "alice", "speaker")["speaker"]
        cls.hub.start()

    def test_service_clients_see_devices_come_and_go(self):
        service = self.paho("presence-watcher")  # anonymous loopback: a trusted service
        service.subscribe("$events/devices/+/presence", 1)
        speaker = TwinDevice(self, "speaker", self.key, subscribe=False)
        online = service.expect(topic="$events/devices/speaker/presence")
        event = json.loads(online.payload)
        self.assertEqual((event["deviceId"], event["connectionState"]), ("speaker", "Connected"))
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        speaker.client.kill()
        offline = json.loads(service.expect(topic="$events/devices/speaker/presence").payload)
        self.assertEqual((offline["connectionState"], offline["reason"]),
                         ("Disconnected", "connection lost"))
        speaker = TwinDevice(self, "speaker", self.key, subscribe=False)
        service.expect(topic="$events/devices/speaker/presence")
        speaker.client.disconnect()
        offline = json.loads(service.expect(topic="$events/devices/speaker/presence").payload)
        self.assertEqual(offline["reason"], "client disconnected")

    def test_devices_may_not_follow_presence(self):
        speaker = TwinDevice(self, "speaker", self.key, version=mp.V5, subscribe=False)
        self.assertEqual(speaker.client.subscribe("$events/devices/+/presence", 1), [0x87])
        speaker.client.close()


if __name__ == "__main__":
    unittest.main()
