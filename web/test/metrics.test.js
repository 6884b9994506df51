// node --test: the dashboard's parsing and arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetrics, total, rate, buckets, bucketDelta, quantile, Series } from '../src/metrics.js';
import { parseSse, deviceOf } from '../src/live.js';

const TEXT = `# HELP allscene_connections Open connections
# TYPE allscene_connections gauge
allscene_connections 3
# TYPE allscene_messages_received_total counter
allscene_messages_received_total{qos="0"} 5
allscene_messages_received_total{qos="1"} 7
# TYPE allscene_store_commit_seconds histogram
allscene_store_commit_seconds_bucket{le="0.001"} 10
allscene_store_commit_seconds_bucket{le="0.01"} 90
allscene_store_commit_seconds_bucket{le="0.1"} 100
allscene_store_commit_seconds_bucket{le="+Inf"} 100
allscene_store_commit_seconds_sum 0.4
allscene_store_commit_seconds_count 100
# TYPE allscene_service_request_seconds histogram
allscene_service_request_seconds_bucket{service="translation",operation="translate",le="0.01"} 1
allscene_service_request_seconds_bucket{service="translation",operation="translate",le="+Inf"} 2
allscene_service_request_seconds_sum{service="translation",operation="translate"} 0.5
allscene_service_request_seconds_count{service="translation",operation="translate"} 2
allscene_service_request_seconds_bucket{service="travel",operation="day",le="0.01"} 3
allscene_service_request_seconds_bucket{service="travel",operation="day",le="+Inf"} 3
allscene_service_request_seconds_sum{service="travel",operation="day"} 0.01
allscene_service_request_seconds_count{service="travel",operation="day"} 3
`;

test('gauges and counters sum over label sets; absent is null', () => {
  const f = parseMetrics(TEXT);
  assert.equal(total(f, 'allscene_connections'), 3);
  assert.equal(total(f, 'allscene_messages_received_total'), 12);
  assert.equal(total(f, 'allscene_messages_received_total', (l) => l.qos === '1'), 7);
  assert.equal(total(f, 'allscene_sessions'), null);
  assert.equal(total(new Map(), 'allscene_connections'), null);
});

test('rates: per second, null across a reset or a missing sample', () => {
  assert.equal(rate(120, 100, 2), 10);
  assert.equal(rate(5, 100, 2), null);
  assert.equal(rate(null, 100, 2), null);
  assert.equal(rate(100, 100, 0), null);
});

test('histogram quantiles interpolate inside the bucket', () => {
  const f = parseMetrics(TEXT);
  const b = buckets(f, 'allscene_store_commit_seconds');
  assert.deepEqual(b.map((x) => x.le), [0.001, 0.01, 0.1, Infinity]);
  // p50: rank 50, between 10 (le 0.001) and 90 (le 0.01)
  assert.ok(Math.abs(quantile(0.5, b) - (0.001 + (0.009 * 40) / 80)) < 1e-12);
  // p99: rank 99, between 90 and 100 in (0.01, 0.1]
  assert.ok(Math.abs(quantile(0.99, b) - (0.01 + (0.09 * 9) / 10)) < 1e-12);
  assert.equal(quantile(0.5, [{ le: Infinity, count: 0 }]), null);
  // everything in +Inf: the highest finite bound
  assert.equal(quantile(0.5, [{ le: 0.1, count: 0 }, { le: Infinity, count: 4 }]), 0.1);
});

test('histograms sum over labels; deltas show only the last interval', () => {
  const f = parseMetrics(TEXT);
  const all = buckets(f, 'allscene_service_request_seconds');
  assert.deepEqual(all, [{ le: 0.01, count: 4 }, { le: Infinity, count: 5 }]);
  const before = [{ le: 0.01, count: 4 }, { le: Infinity, count: 5 }];
  const now = [{ le: 0.01, count: 4 }, { le: Infinity, count: 9 }];
  assert.deepEqual(bucketDelta(now, before), [{ le: 0.01, count: 0 }, { le: Infinity, count: 4 }]);
  assert.equal(quantile(0.5, bucketDelta(before, before)), null);
  assert.deepEqual(bucketDelta(before, now), before); // reset
  assert.equal(buckets(f, 'allscene_publish_ack_seconds'), null);
});

test('series keep a fixed window', () => {
  const s = new Series(['a'], 10);
  for (let t = 0; t <= 20; t += 2) s.push(t, [t]);
  assert.deepEqual(s.data()[0], [10, 12, 14, 16, 18, 20]);
});

test('SSE parsing keeps partial events and skips comments', () => {
  const { events, rest } = parseSse(': ping\n\nevent: message\ndata: {"a":1}\n\nevent: message\ndata: {"b"');
  assert.deepEqual(events, [{ event: 'message', data: '{"a":1}' }]);
  assert.equal(rest, 'event: message\ndata: {"b"');
  assert.equal(deviceOf({ topic: '$events/devices/lamp/presence', payload: {} }), 'lamp');
  assert.equal(deviceOf({ topic: 'devices/x/messages/devicebound/a=b' }), 'x');
});

test('the parser: escaped label values, timestamps, untyped and bad lines', () => {
  const f = parseMetrics(
    'x_total{a="q\\"uo\\\\te",b="n\\nl"} 4 1700000000000\nbad line here\nup 1\nnan_metric NaN\n',
  );
  assert.deepEqual(f.get('x_total').metrics[0].labels, { a: 'q"uo\\te', b: 'n\nl' });
  assert.equal(total(f, 'x_total'), 4);
  assert.equal(total(f, 'up'), 1);
  assert.equal(total(f, 'nan_metric'), null);
  assert.equal(f.has('bad'), false);
});
