"""Cloud services through the real hub (docs/services.md): the same
operations over MQTT 5 request/response (paho, and Mosquitto's own
mosquitto_rr), MQTT 3.1.1 request ids, REST, the CLI and the SDK; refusals
that leave the hub serving; the assistant acting on a device agent, typed
and spoken; a shared document edited from two devices; the travel
assistant's itinerary, phrases and a reminder reaching the wearable.  The
services run their real engines (Apertium, pocketsphinx, espeak-ng, tz)."""

import base64
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import mqttproto as mp
from paho.mqtt.packettypes import PacketTypes
from test_auth import cli
from test_ecosystem import Agent
from test_sdk import Probe, connection_string, register


class ServicesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="allscene-services-")
        cls.http_port = harness.free_port()
        cls.hub = harness.Hub("--http", "%s:%d" % (harness.HOST, cls.http_port))
        d = cls.hub.data_dir
        for user in ("ana", "bob"):
            cli(d, "user", "add", user)
        cli(d, "device", "add", "phone", "--owner", "ana", "--class", "phone")
        cli(d, "device", "add", "tablet", "--owner", "ana", "--class", "tablet")
        cli(d, "device", "add", "bobs", "--owner", "bob")
        cli(d, "device", "add", "ana-watch", "--owner", "ana", "--class", "wearable")
        cls.hub.start()
        if not harness.wait_until(lambda: os.path.exists(os.path.join(d, "admin.token")), 5.0):
            raise RuntimeError("no admin.token within 5 s\n" + cls.hub.log_tail())
        with open(os.path.join(d, "admin.token")) as f:
            cls.token = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()
        shutil.rmtree(cls.work, True)

    # ---- clients

    def device(self, device_id, version=mp.V5):
        """A paho client that is the registered device `device_id` (anonymous
        loopback clients act as the device their client id names)."""
        client = harness.PahoClient(self.hub, device_id, version)
        self.addCleanup(client.close)
        client.connect()
        return client

    def ask_mqtt5(self, client, service, operation, request, correlation=b"c1"):
        """(status, answer, correlation data) over MQTT 5 request/response."""
        answers = "devices/%s/answers" % client.client_id
        client.subscribe(answers, 1)
        props = harness.make_props(PacketTypes.PUBLISH, ResponseTopic=answers, CorrelationData=correlation)
        client.publish("$services/%s/%s" % (service, operation), json.dumps(request).encode(),
                       qos=1, properties=props)
        got = client.expect(timeout=20, topic=answers)
        return int(got.prop("UserProperty")[0][1]), json.loads(got.payload), \
            got.prop("CorrelationData")

    def ask_rid(self, client, service, operation, payload, rid):
        """(status, answer) over the request-id form (any MQTT version)."""
        client.subscribe("$services/res/#", 0)
        client.publish("$services/%s/%s/?$rid=%s" % (service, operation, rid), payload, qos=1)
        got = client.expect(timeout=20)
        prefix = "$services/res/"
        self.assertTrue(got.topic.startswith(prefix) and got.topic.endswith("/?$rid=" + rid),
                        got.topic)
        return int(got.topic[len(prefix):].split("/")[0]), json.loads(got.payload)

    def rest(self, method, path, body=None, raw=None):
        conn = http.client.HTTPConnection(harness.HOST, self.http_port, timeout=30)
        self.addCleanup(conn.close)
        headers = {"Authorization": "Bearer " + self.token}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read().decode())

    # ---- the protocol

    def test_mqtt5_request_response(self):
        phone = self.device("phone")
        status, answer, correlation = self.ask_mqtt5(
            phone, "translation", "translate", {"from": "en", "to": "es", "text": "good morning"},
            correlation=b"\x00\x01req")
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["text"], "buenos días")
        self.assertEqual(correlation, b"\x00\x01req")

    def test_mqtt311_request_ids(self):
        tablet = self.device("tablet", mp.V311)
        status, answer = self.ask_rid(tablet, "translation", "translate",
                                      b'{"from": "en", "to": "es", "text": "thank you"}', "r1")
        self.assertEqual((status, answer["text"]), (200, "gracias"))

    def test_mosquitto_rr_is_answered(self):
        # Mosquitto's own request/response client (MQTT 5), as an independent peer.
        done = subprocess.run(
            ["mosquitto_rr", "-h", harness.HOST, "-p", str(self.hub.port), "-i", "phone",
             "-t", "$services/translation/translate", "-e", "devices/phone/rr",
             "-m", '{"from": "en", "to": "es", "text": "thank you"}', "-W", "20"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["text"], "gracias")

    def test_refusals_are_answered_and_the_hub_keeps_serving(self):
        tablet = self.device("tablet", mp.V311)
        cases = [("translation/translate", b"not json", 400, "bad_json"),
                 ("translation/translate", b'{"from": "en", "to": "zz", "text": "x"}', 404,
                  "unknown_pair"),
                 ("translation/translate", b'{"from": "en", "to": "es", "text": "  "}', 400,
                  "empty_text"),
                 ("nope/op", b"{}", 404, "unknown_service"),
                 ("translation/nope", b"{}", 404, "unknown_operation")]
        for i, (path, payload, status, code) in enumerate(cases):
            service, operation = path.split("/")
            got_status, answer = self.ask_rid(tablet, service, operation, payload, "e%d" % i)
            self.assertEqual((got_status, answer["code"]), (status, code), answer)
            self.assertTrue(answer["message"])
        # A client that is no registered device may not call services.
        stranger = self.device("stranger", mp.V311)
        status, answer = self.ask_rid(stranger, "translation", "pairs", b"{}", "s1")
        self.assertEqual((status, answer["code"]), (403, "not_a_device"))
        status, answer = self.ask_rid(tablet, "translation", "pairs", b"{}", "ok")
        self.assertEqual(status, 200)
        self.assertIn("eng-spa", [p["pair"] for p in answer])

    def test_rest(self):
        status, services = self.rest("GET", "/api/v1/services")
        self.assertEqual(status, 200)
        names = {s["name"] for s in services}
        self.assertTrue({"translation", "assistant", "docs"} <= names, names)
        status, answer = self.rest("POST", "/api/v1/services/translation/batch",
                                   {"from": "en", "to": "es", "texts": ["yes", "good morning"]})
        self.assertEqual((status, answer["texts"]), (200, ["Sí", "buenos días"]))
        self.assertEqual(self.rest("POST", "/api/v1/services/nope/x", {})[0], 404)
        status, answer = self.rest("POST", "/api/v1/services/docs/list?user=nobody", {})
        self.assertEqual(status, 404, answer)
        status, answer = self.rest("POST", "/api/v1/services/translation/translate",
                                   raw="{not json")
        self.assertEqual(status, 400, answer)
        # Audio is larger than other requests: a few seconds of speech pass
        # (up to 2 MiB), as a spoken request from the console would.
        status, said = self.rest("POST", "/api/v1/services/speech/synthesize", {
            "text": "pause the bedroom speaker, then play music in the living room, and ring "
                    "my watch", "sample_rate": 16000})
        self.assertEqual(status, 200, said)
        self.assertGreater(len(said["audio"]), 64 * 1024)
        status, heard = self.rest("POST", "/api/v1/services/speech/recognize?user=ana",
                                  {"audio": said["audio"]})
        self.assertEqual(status, 200, heard)
        self.assertIn("speaker", heard["text"].lower())
        status, _ = self.rest("POST", "/api/v1/users", raw="x" * (64 * 1024 + 1))
        self.assertEqual(status, 413)

    def test_cli(self):
        d = self.hub.data_dir
        self.assertEqual(cli(d, "translate", "good morning", "--to", "es").stdout.strip(),
                         "buenos días")
        listed = cli(d, "services").stdout
        self.assertIn("translation: pairs, translate, batch", listed)
        refused = cli(d, "translate", "x", "--to", "zz", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("apt-get install", refused.stderr)
        created = json.loads(cli(d, "services", "call", "docs", "create", '{"title": "cli"}',
                                 "--user", "ana", "--json").stdout)
        self.assertTrue(created["id"])

    def test_sdk(self):
        key = register(self.hub.data_dir, "sdk-phone", owner="ana")
        probe = Probe(self, "--connection-string", connection_string("sdk-phone", key),
                      "--port", self.hub.port)
        probe.expect("connected", code="")
        probe.command("service", service="translation", operation="translate",
                      request={"from": "en", "to": "es", "text": "thank you"}, timeout=20)
        got = probe.expect("serviced", timeout=20)
        self.assertEqual((got["status"], got["payload"]["text"]), (200, "gracias"), got)
        probe.command("service", service="nope", operation="x", request={})
        got = probe.expect("serviced")
        self.assertEqual((got["status"], got["payload"]["code"]), (404, "unknown_service"), got)
        self.assertTrue(got["code"], got)

    # ---- services acting for their owner

    def test_the_assistant_rings_the_owners_watch(self):
        state = os.path.join(self.work, "watch")
        os.makedirs(state, exist_ok=True)
        watch = Agent(self.hub, "ana", "wearable", "watch", state_dir=state)
        self.addCleanup(watch.stop)
        phone = self.device("phone")
        since = watch.mark()
        status, answer, _ = self.ask_mqtt5(phone, "assistant", "ask", {"text": "ring my watch"})
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["intent"], answer["done"]), ("device.ring", True), answer)
        ring = watch.wait_for(lambda e: e["event"] == "ring", since=since)
        self.assertEqual(ring["from"], "phone")
        # Spoken: espeak-ng and sox make the WAV (16 kHz mono, as a phone
        # would record it); the hub hears it and answers in speech too.
        wav = os.path.join(self.work, "ring.wav")
        subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-w", wav + ".22k", "ring my watch"],
                       check=True, timeout=30)
        subprocess.run(["sox", wav + ".22k", "-r", "16000", "-c", "1", "-b", "16", wav],
                       check=True, timeout=30)
        with open(wav, "rb") as f:
            audio = base64.b64encode(f.read()).decode()
        since = watch.mark()
        status, answer, _ = self.ask_mqtt5(phone, "assistant", "ask",
                                           {"audio": audio, "speak": True})
        self.assertEqual((status, answer["intent"], answer["done"]), (200, "device.ring", True),
                         answer)
        self.assertTrue(answer["heard"])
        spoken = base64.b64decode(answer["audio"]["base64"])
        self.assertEqual((spoken[:4], spoken[8:12]), (b"RIFF", b"WAVE"))
        watch.wait_for(lambda e: e["event"] == "ring", since=since)
        # Bob's assistant does not reach Ana's watch.
        since = watch.mark()
        bobs = self.device("bobs")
        status, answer, _ = self.ask_mqtt5(bobs, "assistant", "ask", {"text": "ring my watch"})
        self.assertFalse(answer.get("done"), answer)
        time.sleep(0.5)
        self.assertEqual(watch.mark(), since)

    def test_a_document_edited_from_two_devices(self):
        phone = self.device("phone")
        tablet = self.device("tablet", mp.V311)
        status, created, _ = self.ask_mqtt5(phone, "docs", "create", {"title": "shopping"})
        self.assertEqual(status, 200, created)
        doc = created["id"]
        status, _, _ = self.ask_mqtt5(phone, "docs", "edit", {
            "id": doc, "ops": [{"insert": "milk\n", "at": 0}]})
        self.assertEqual(status, 200)
        status, answer = self.ask_rid(tablet, "docs", "edit", json.dumps({
            "id": doc, "ops": [{"insert": "eggs\n", "at": 5}]}).encode(), "d1")
        self.assertEqual(status, 200, answer)
        status, answer = self.ask_rid(tablet, "docs", "get", json.dumps({"id": doc}).encode(), "d2")
        self.assertEqual((status, answer["text"]), (200, "milk\neggs\n"))
        status, answer = self.rest("POST", "/api/v1/services/docs/get?user=ana", {"id": doc})
        self.assertEqual(answer["text"], "milk\neggs\n")
        # Another user's request for it: as if it did not exist.
        bobs = self.device("bobs")
        status, answer, _ = self.ask_mqtt5(bobs, "docs", "get", {"id": doc})
        self.assertEqual(status, 404, answer)

    def test_travel_plans_reminds_and_speaks_the_language(self):
        watch = self.device("ana-watch")
        watch.subscribe("devices/ana-watch/messages/devicebound/#", 1)
        # A booking e-mail is read (dry run: nothing added) ...
        sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "travel",
                              "flight_airfrance.txt")
        with open(sample) as f:
            status, parsed = self.rest("POST", "/api/v1/services/travel/parse?user=ana",
                                       {"text": f.read(), "dry_run": True})
        self.assertEqual(status, 200, parsed)
        self.assertEqual(parsed["items"][0]["kind"], "flight")
        # ... and a flight is added with its airports' zones.
        status, added = self.rest("POST", "/api/v1/services/travel/add?user=ana", {"item": {
            "kind": "flight", "airline": "AF", "number": "1300", "from": "CDG", "to": "MAD",
            "depart": "2031-06-12T07:05", "arrive": "2031-06-12T09:15"}})
        self.assertEqual(status, 200, added)
        added = {"items": [added["item"]]}
        flight = added["items"][0]
        self.assertEqual((flight["from_zone"], flight["to_zone"]), ("Europe/Paris", "Europe/Madrid"))
        status, day = self.rest("POST", "/api/v1/services/travel/day?user=ana",
                                {"date": "2031-06-12", "zone": "Europe/Paris"})
        self.assertEqual([i["id"] for i in day["items"]], [flight["id"]])
        # Bob sees nothing of it.
        status, bobs = self.rest("POST", "/api/v1/services/travel/list?user=bob", {})
        self.assertEqual((status, bobs["items"]), (200, []))
        # The phrases come from Apertium, not a table.
        status, phrases = self.rest("POST", "/api/v1/services/travel/phrases?user=ana",
                                    {"id": flight["id"]})
        self.assertEqual((status, phrases["language"]), (200, "es"), phrases)
        self.assertIn({"en": "Thank you.", "text": "Gracias."}, phrases["phrases"])
        # A reminder two seconds ahead reaches the wearable as a message.
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        status, reminder = self.rest("POST", "/api/v1/services/travel/remind?user=ana",
                                     {"at": at, "text": "Buy euros"})
        self.assertEqual(status, 200, reminder)
        got = watch.expect(timeout=15, topic=None)
        self.assertIn("devices/ana-watch/messages/devicebound/", got.topic)
        self.assertEqual(json.loads(got.payload)["reminder"], reminder["id"])
        # The assistant knows the flight.
        phone = self.device("phone")
        status, answer, _ = self.ask_mqtt5(phone, "assistant", "ask",
                                           {"text": "what is my next flight"})
        self.assertEqual((status, answer["intent"]), (200, "travel.next_flight"), answer)
        self.assertIn("1300", answer["answer"])


if __name__ == "__main__":
    unittest.main()
