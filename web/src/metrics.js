// The dashboard's arithmetic over the hub's /metrics (Prometheus text
// format 0.0.4): parsing, sums over label sets, counter rates and quantiles
// estimated from histogram buckets. (parse-prometheus-text-format from npm
// was tried: it drops the labels of labelled histograms, so the text is
// parsed here; the format is line-based and small.)

// One sample line: name, optional {labels}, value, optional timestamp.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;

function parseLabels(text) {
  const labels = {};
  if (!text) return labels;
  LABEL.lastIndex = 0;
  let m;
  while (LABEL.lastIndex < text.length && (m = LABEL.exec(text))) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(v) {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v); // NaN stays NaN
}

// text -> Map(name -> family {name, type, metrics}). A counter or gauge
// sample is {labels, value}; a histogram's samples are grouped by their
// labels other than `le` into {labels, buckets: {le: count}, sum, count}.
export function parseMetrics(text) {
  const families = new Map();
  const types = new Map();
  const family = (name, type) => {
    if (!families.has(name)) families.set(name, { name, type, metrics: [] });
    return families.get(name);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const t = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (t) types.set(t[1], t[2].toLowerCase());
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) continue; // a line we do not understand is skipped, not fatal
    const [, name, labelText, valueText] = m;
    const labels = parseLabels(labelText);
    const value = parseValue(valueText);
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (base !== name && types.get(base) === 'histogram') {
      const f = family(base, 'histogram');
      const { le, ...rest } = labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      let h = f.metrics.find((x) => x.key === key);
      if (!h) f.metrics.push((h = { key, labels: rest, buckets: {}, sum: null, count: null }));
      if (name.endsWith('_bucket')) h.buckets[le] = value;
      else if (name.endsWith('_sum')) h.sum = value;
      else h.count = value;
      continue;
    }
    family(name, types.get(name) || 'untyped').metrics.push({ labels, value });
  }
  return families;
}

// The sum of a counter or gauge over the label sets that `match` accepts;
// null when the metric is absent (shown as "—", never as 0).
export function total(families, name, match = () => true) {
  const f = families && families.get(name);
  if (!f || !f.metrics.length) return null;
  let sum = 0;
  let seen = false;
  for (const m of f.metrics) {
    if (m.value === undefined || !match(m.labels || {})) continue;
    const v = Number(m.value);
    if (Number.isFinite(v)) {
      sum += v;
      seen = true;
    }
  }
  return seen ? sum : null;
}

// Per-second rate of a counter between two samples; null if either is
// missing, and null (not negative) across a counter reset (hub restart).
export function rate(now, before, seconds) {
  if (now === null || before === null || !(seconds > 0)) return null;
  if (now < before) return null;
  return (now - before) / seconds;
}

// Cumulative buckets of a histogram, summed over its label sets:
// [{le, count}] sorted by le (le = Infinity for +Inf).
export function buckets(families, name, match = () => true) {
  const f = families && families.get(name);
  if (!f) return null;
  const byLe = new Map();
  for (const m of f.metrics) {
    if (!m.buckets || !match(m.labels || {})) continue;
    for (const [le, count] of Object.entries(m.buckets)) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      byLe.set(bound, (byLe.get(bound) || 0) + Number(count));
    }
  }
  if (!byLe.size) return null;
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

// Observations that arrived between two bucket snapshots (so a chart shows
// the latency of the last interval, not since the hub started).
export function bucketDelta(now, before) {
  if (!now) return null;
  if (!before) return now;
  const prev = new Map(before.map((b) => [b.le, b.count]));
  const out = now.map((b) => ({ le: b.le, count: b.count - (prev.get(b.le) || 0) }));
  // A counter reset: fall back to the totals since the restart.
  return out.some((b) => b.count < 0) ? now : out;
}

// The q-quantile from cumulative buckets, interpolating linearly inside the
// bucket it falls in (as Prometheus' histogram_quantile does). Null when
// there are no observations; the highest finite bound when it falls in +Inf.
export function quantile(q, cumulative) {
  if (!cumulative || !cumulative.length) return null;
  const count = cumulative[cumulative.length - 1].count;
  if (!(count > 0)) return null;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count: c } of cumulative) {
    if (c >= rank) {
      if (le === Infinity) return lowerBound;
      if (c === lowerCount) return le;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (c - lowerCount);
    }
    lowerBound = le === Infinity ? lowerBound : le;
    lowerCount = c;
  }
  return lowerBound;
}

// A fixed window of samples for the charts: x in unix seconds.
export class Series {
  constructor(names, windowSeconds = 300) {
    this.window = windowSeconds;
    this.x = [];
    this.ys = names.map(() => []);
  }
  push(t, values) {
    this.x.push(t);
    values.forEach((v, i) => this.ys[i].push(v === undefined ? null : v));
    while (this.x.length && this.x[0] < t - this.window) {
      this.x.shift();
      this.ys.forEach((y) => y.shift());
    }
  }
  data() {
    return [this.x, ...this.ys];
  }
}
