// Hub dashboard: /metrics polled every 2 s; charts of the last 5 minutes
// (connections, messages/s, publish-ack latency, store commit time) and
// number tiles. A metric the hub does not expose shows "—".
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { request } from '../api.js';
import { Series, bucketDelta, buckets, parseMetrics, quantile, rate, total } from '../metrics.js';
import { ErrorBox } from '../ui.jsx';

const POLL_MS = 2000;

function Chart({ title, series, data, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const fmt = (v) => (v === null || v === undefined ? '—' : `${+v.toPrecision(3)}${unit}`);
    plot.current = new uPlot(
      {
        width: Math.max(280, box.current.clientWidth - 8),
        height: 150,
        series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, value: (u, v) => fmt(v) }))],
        axes: [{}, { values: (u, vals) => vals.map(fmt), size: 60 }],
        // Rates and latencies start at zero so small changes do not look large.
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        legend: { live: true },
      },
      data,
      box.current,
    );
    const onResize = () => plot.current.setSize({ width: Math.max(280, box.current.clientWidth - 8), height: 150 });
    addEventListener('resize', onResize);
    return () => {
      removeEventListener('resize', onResize);
      plot.current.destroy();
    };
  }, []);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);
  return (
    <figure class="panel chart" aria-label={`${title} chart`}>
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString();
  return String(+v.toPrecision(digits));
}

function ms(seconds) {
  return seconds === null ? null : seconds * 1000;
}

function uptime(s) {
  if (s === null) return '—';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min ${Math.floor(s % 60)} s`;
}

export function Dashboard() {
  const [error, setError] = useState(null);
  const [view, setView] = useState(null);
  const state = useRef({
    prev: null,
    conns: new Series(['connections']),
    msgs: new Series(['in', 'out']),
    ack: new Series(['p50', 'p99']),
    commit: new Series(['p50', 'p99']),
  });

  useEffect(() => {
    let stopped = false;
    let timer = null;
    async function poll() {
      try {
        const r = await request('GET', '/metrics', undefined, { headers: { Accept: 'text/plain' } });
        const f = parseMetrics(typeof r.data === 'string' ? r.data : '');
        const now = Date.now() / 1000;
        const s = state.current;
        const cur = {
          t: now,
          in: total(f, 'allscene_messages_received_total'),
          out: total(f, 'allscene_messages_sent_total'),
          bin: total(f, 'allscene_bytes_received_total'),
          bout: total(f, 'allscene_bytes_sent_total'),
          ack: buckets(f, 'allscene_publish_ack_seconds'),
          commit: buckets(f, 'allscene_store_commit_seconds'),
        };
        const p = s.prev;
        const dt = p ? now - p.t : 0;
        const inRate = p ? rate(cur.in, p.in, dt) : null;
        const outRate = p ? rate(cur.out, p.out, dt) : null;
        const ackD = bucketDelta(cur.ack, p && p.ack);
        const commitD = bucketDelta(cur.commit, p && p.commit);
        s.conns.push(now, [total(f, 'allscene_connections')]);
        s.msgs.push(now, [inRate, outRate]);
        s.ack.push(now, [ms(quantile(0.5, ackD)), ms(quantile(0.99, ackD))]);
        s.commit.push(now, [ms(quantile(0.5, commitD)), ms(quantile(0.99, commitD))]);
        s.prev = cur;
        const services = [];
        const fam = f.get('allscene_service_requests_total');
        // Only what was asked: the hub lists every service/operation/status at 0.
        for (const m of (fam && fam.metrics) || []) if (m.value > 0) services.push({ ...m.labels, value: m.value });
        setView({
          f,
          inRate,
          outRate,
          bytesIn: p ? rate(cur.bin, p.bin, dt) : null,
          bytesOut: p ? rate(cur.bout, p.bout, dt) : null,
          ackP99: ms(quantile(0.99, cur.ack)),
          commitP99: ms(quantile(0.99, cur.commit)),
          services,
          at: new Date(),
        });
        setError(null);
      } catch (e) {
        setError(e);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    }
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const s = state.current;
  const f = view && view.f;
  const g = (name) => (f ? total(f, name) : null);
  const tiles = [
    ['Connections', fmt(g('allscene_connections'))],
    ['Devices online', `${fmt(g('allscene_devices_connected'))} / ${fmt(g('allscene_devices'))}`],
    ['Messages in/s', fmt(view && view.inRate)],
    ['Messages out/s', fmt(view && view.outRate)],
    ['KiB in/s', fmt(view && view.bytesIn !== null ? view.bytesIn / 1024 : null)],
    ['KiB out/s', fmt(view && view.bytesOut !== null ? view.bytesOut / 1024 : null)],
    ['Sessions', fmt(g('allscene_sessions'))],
    ['Subscriptions', fmt(g('allscene_subscriptions'))],
    ['Retained', fmt(g('allscene_retained_messages'))],
    ['In flight', fmt(g('allscene_inflight_messages'))],
    ['Queued', fmt(g('allscene_queued_messages'))],
    ['Dropped', fmt(g('allscene_messages_dropped_total'))],
    ['Auth failures', fmt(g('allscene_auth_failures_total'))],
    ['Ack p99, ms (all)', fmt(view && view.ackP99)],
    ['Commit p99, ms (all)', fmt(view && view.commitP99)],
    ['Uptime', uptime(g('allscene_uptime_seconds'))],
  ];

  return (
    <section>
      <div class="title-row">
        <h1>Hub dashboard</h1>
        <span class="muted">{view ? `updated ${view.at.toLocaleTimeString()}, every 2 s` : 'loading…'}</span>
      </div>
      <ErrorBox error={error} />
      <dl class="tiles" aria-label="Hub figures">
        {tiles.map(([k, v]) => (
          <div class="tile"><dt>{k}</dt><dd>{v}</dd></div>
        ))}
      </dl>
      <div class="charts">
        <Chart title="Connections" unit="" series={[['connections', '#2563eb']]} data={s.conns.data()} />
        <Chart title="Messages per second" unit="/s" series={[['in', '#16a34a'], ['out', '#ea580c']]} data={s.msgs.data()} />
        <Chart title="Publish-ack latency (QoS 1/2)" unit=" ms" series={[['p50', '#7c3aed'], ['p99', '#db2777']]} data={s.ack.data()} />
        <Chart title="Store commit time" unit=" ms" series={[['p50', '#0891b2'], ['p99', '#ca8a04']]} data={s.commit.data()} />
      </div>
      {view && view.services.length > 0 && (
        <table class="list services" aria-label="Service requests">
          <caption>Cloud service requests since the hub started</caption>
          <thead><tr><th>Service</th><th>Operation</th><th>Status</th><th>Requests</th></tr></thead>
          <tbody>
            {view.services.map((r) => (
              <tr><td>{r.service}</td><td>{r.operation}</td><td>{r.status}</td><td>{fmt(r.value)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
