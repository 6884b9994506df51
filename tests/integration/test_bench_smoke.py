#!/usr/bin/python3
"""`allscene bench` against the real hub: a short QoS 1 pairs run must
deliver every message exactly once, with no errors, and report figures
that add up.  Fast (a few seconds) so it runs with every ctest."""

import json
import subprocess
import unittest

import harness

BENCH_TIMEOUT = 30.0


class BenchSmokeTest(harness.HubTestCase):
    HUB_ARGS = ("--threads", 2)

    def run_bench(self, *args):
        cmd = [harness.hub_binary(), "bench", "--port", str(self.hub.port), "--json", "-q",
               "--broker-pid", str(self.hub.proc.pid)] + [str(a) for a in args]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=BENCH_TIMEOUT)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return json.loads(proc.stdout)

    def test_pairs_qos1_no_loss(self):
        r = self.run_bench("--scenario", "pairs", "--connections", 4, "--duration", 2,
                           "--warmup", 0.5, "--qos", 1)
        self.assertEqual(r["connections"]["ok"], 8, r)
        self.assertGreater(r["sent"], 0, r)
        self.assertEqual(r["received"], r["sent"], r)
        self.assertEqual(r["expected"], r["sent"], r)
        self.assertEqual(r["lost"], 0, r)
        self.assertEqual(r["duplicates"], 0, r)
        self.assertEqual(r["errors"]["total"], 0, r)
        self.assertGreater(r["received_rate"], 0, r)
        lat = r["latency_us"]
        self.assertGreater(lat["count"], 0, r)
        self.assertLessEqual(lat["p50"], lat["p99"], r)
        self.assertLessEqual(lat["p99"], lat["max"], r)
        self.assertIsNotNone(r["cpu_seconds"]["broker"], r)

    def test_broker_gone_is_counted_not_hung(self):
        # Nothing listens on this port: every connect fails, fast.
        port = harness.free_port()
        cmd = [harness.hub_binary(), "bench", "--port", str(port), "--json", "-q",
               "--connections", 3, "--duration", 1, "--connect-timeout", 5]
        proc = subprocess.run([str(a) for a in cmd], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=BENCH_TIMEOUT)
        self.assertEqual(proc.returncode, 1, proc.stderr.decode(errors="replace"))
        r = json.loads(proc.stdout)
        self.assertEqual(r["connections"]["ok"], 0, r)
        self.assertEqual(r["errors"]["connect"], 6, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
