#!/usr/bin/python3
"""Crash test (durability): publishers send numbered QoS 1 and QoS 2 messages
to persistent sessions (online and slow, or offline for whole cycles) while
the hub is killed with SIGKILL at random moments and restarted on the same
data dir.  Afterwards every acknowledged message has been delivered (QoS 1 at
least once, QoS 2 exactly once, per-publisher order kept) and nothing that
was never published.  Workload and checker: crash_workload.py.

The seed comes from $ALLSCENE_CRASH_SEED, else from the clock; it is printed
with the figures.  With ALLSCENE_TEST_HOOKS=1 (a hub built with the test
hooks) the test also shows that it can fail (acknowledging before the commit
must lose messages) and simulates power loss with a SQLite VFS that drops
unsynced writes at SIGKILL: fsync loses nothing, batch and none (which keeps
nothing on disk at all) do.  See docs/durability.md for the modes.
"""

import os
import sys
import time
import unittest

import crash_workload as cw
import harness

CYCLES = 20
POWERLOSS_CYCLES = 10
LOSS_CYCLES = 6        # per attempt, where a loss must show
NONE_CYCLES = 3        # durability none keeps nothing: the first kill loses
LOSS_ATTEMPTS = 3
SEED = int(os.environ.get("ALLSCENE_CRASH_SEED") or int(time.time()) % 100000)
HOOKS = os.environ.get("ALLSCENE_TEST_HOOKS") == "1"


class CrashTestCase(unittest.TestCase):
    """Runs workloads against allscene; on failure keeps their data dirs and
    logs and prints the hub's log tail."""

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        self._workloads = []
        try:
            return super().run(result)
        finally:
            failed = len(result.failures) + len(result.errors) > before
            for wl in self._workloads:
                if failed:
                    sys.stderr.write("\n---- hub log tail (%s) ----\n%s\n---- end ----\n"
                                     % (self.id(), wl.broker.log_tail()))
                wl.close(keep=failed)

    def run_workload(self, seed=SEED, **settings):
        harness.hub_binary()  # skips without ALLSCENE_BIN
        # Two event loops (one per core here): each commits its own part of
        # a routed message, the case that recoverable QoS 2 messages cover.
        settings.setdefault("threads", 2)
        cfg = cw.Config(broker="allscene", seed=seed, **settings)
        result, wl = cw.run(cfg)
        self._workloads.append(wl)
        sys.stderr.write("\n%s%s\n" % (result.summary(), self._describe(cfg)))
        if result.examples:
            sys.stderr.write("  e.g. %s\n" % "; ".join(result.examples))
        sys.stderr.flush()
        return result

    @staticmethod
    def _describe(cfg):
        hooks = [name for name, on in (("early-ack", cfg.early_ack),
                                       ("powerloss", cfg.powerloss)) if on]
        return " hooks=%s" % ",".join(hooks) if hooks else ""

    def run_until_loss(self, cycles=LOSS_CYCLES, **settings):
        """Kills right after an ack with a full window of larger messages in
        process, so that unsafe acks show; bounded retries, as a loss still
        depends on where the kills land."""
        for attempt in range(LOSS_ATTEMPTS):
            result = self.run_workload(seed=SEED + attempt, cycles=cycles,
                                       after_ack_share=1.0, window=48, payload_size=1024,
                                       **settings)
            if result.lost:
                break
        return result

    def assertNothingLost(self, r):
        figures = "%s\n%s" % (r.summary(), "; ".join(r.examples))
        self.assertEqual(r.lost, 0, "acknowledged messages lost: " + figures)
        self.assertEqual(r.duplicated, 0, "QoS 2 messages delivered twice: " + figures)
        self.assertEqual(r.out_of_order, 0, "per-publisher order broken: " + figures)
        self.assertEqual(r.phantom, 0, "delivered, never published: " + figures)
        self.assertEqual(r.wrong_qos, 0, "delivered at the wrong QoS: " + figures)
        self.assertEqual(r.sessions_lost, 0, "persistent sessions lost: " + figures)

    def assertMeaningful(self, r, cycles):
        self.assertEqual(r.crashes, cycles, r.summary())
        self.assertGreaterEqual(r.acknowledged, 20 * cycles, "too little traffic: " + r.summary())
        self.assertGreaterEqual(r.kills_with_undelivered, cycles // 2,
                                "kills should find acknowledged messages undelivered: "
                                + r.summary())


class CrashTest(CrashTestCase):

    def test_sigkill_loses_nothing_acknowledged(self):
        r = self.run_workload(durability="fsync", cycles=CYCLES)
        self.assertMeaningful(r, CYCLES)
        self.assertNothingLost(r)


@unittest.skipUnless(HOOKS, "needs a hub built with ALLSCENE_TEST_HOOKS "
                            "(env ALLSCENE_TEST_HOOKS=1)")
class CrashHooksTest(CrashTestCase):

    def test_early_ack_reports_losses(self):
        # The test must be able to fail: acknowledging before the commit.
        r = self.run_until_loss(durability="fsync", early_ack=True)
        self.assertGreater(r.lost, 0, "early acks lost nothing: the crash test cannot fail? "
                           + r.summary())

    def test_powerloss_fsync_loses_nothing(self):
        r = self.run_workload(durability="fsync", powerloss=True, cycles=POWERLOSS_CYCLES)
        self.assertMeaningful(r, POWERLOSS_CYCLES)
        self.assertNothingLost(r)

    def test_powerloss_batch_reports_losses(self):
        r = self.run_until_loss(durability="batch", powerloss=True)
        self.assertGreater(r.lost, 0, "batch lost nothing under power loss: " + r.summary())

    def test_powerloss_none_reports_losses(self):
        r = self.run_until_loss(durability="none", powerloss=True, cycles=NONE_CYCLES)
        self.assertGreater(r.lost, 0, "none lost nothing under power loss: " + r.summary())


if __name__ == "__main__":
    sys.stderr.write("crash test seed %d (repeat with ALLSCENE_CRASH_SEED=%d)\n" % (SEED, SEED))
    unittest.main(verbosity=2)
