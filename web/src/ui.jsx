// Small shared pieces: error display, JSON view, class icons, formatting.
import { useEffect, useState } from 'preact/hooks';

// An error as the API gave it: status and its message.
export function ErrorBox({ error }) {
  if (!error) return null;
  const status = error.status ? `${error.status} ` : '';
  return (
    <div class="error" role="alert">
      {status && <strong>{status}</strong>}
      {error.message}
    </div>
  );
}

export function Json({ value, label }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

// Run an async action and keep its result, error and busy state together.
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const run = async (fn) => {
    setState((s) => ({ ...s, busy: true, error: null }));
    try {
      const result = await fn();
      setState({ busy: false, error: null, result });
      return result;
    } catch (error) {
      setState({ busy: false, error, result: null });
      return undefined;
    }
  };
  return [state, run, setState];
}

// Re-render every `ms` (for "seen 5 s ago" texts).
export function useTick(ms) {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

export const CLASSES = ['phone', 'laptop', 'tablet', 'smart-screen', 'wearable', 'audio', 'car', 'iot'];

// One outline icon per device class (24x24, stroke = currentColor).
const ICONS = {
  phone: <><rect x="7" y="2" width="10" height="20" rx="2" /><path d="M11 18h2" /></>,
  laptop: <><rect x="5" y="5" width="14" height="10" rx="1" /><path d="M2 19h20l-2-4H4z" /></>,
  tablet: <><rect x="4" y="3" width="16" height="18" rx="2" /><path d="M11 18h2" /></>,
  'smart-screen': <><rect x="2" y="4" width="20" height="13" rx="1" /><path d="M8 21h8M12 17v4" /></>,
  wearable: <><rect x="7" y="7" width="10" height="10" rx="3" /><path d="M9 7l1-4h4l1 4M9 17l1 4h4l1-4" /></>,
  audio: <><rect x="6" y="2" width="12" height="20" rx="2" /><circle cx="12" cy="14" r="4" /><circle cx="12" cy="6" r="1" /></>,
  car: <><path d="M3 16v-4l2-5h14l2 5v4z" /><circle cx="7" cy="17" r="2" /><circle cx="17" cy="17" r="2" /></>,
  iot: <><rect x="7" y="7" width="10" height="10" rx="1" /><path d="M10 3v4M14 3v4M10 17v4M14 17v4M3 10h4M3 14h4M17 10h4M17 14h4" /></>,
};

export function ClassIcon({ cls }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" role="img" aria-label={cls || 'device'} width="24" height="24"
      fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">
      <title>{cls}</title>
      {ICONS[cls] || ICONS.iot}
    </svg>
  );
}

export function Presence({ online }) {
  return (
    <span class={`presence ${online ? 'on' : 'off'}`}>
      <span class="dot" aria-hidden="true" />
      {online ? 'online' : 'offline'}
    </span>
  );
}

// The device's battery from its reported properties: the ecosystem's
// card shape (ecosystem.battery.level, docs/protocol.md), or a plain
// `battery` number or `battery.level`.
export function batteryOf(twin) {
  const r = twin && twin.properties && twin.properties.reported;
  if (!r) return null;
  const candidates = [r.ecosystem && r.ecosystem.battery, r.battery];
  for (const b of candidates) {
    if (typeof b === 'number') return { level: b };
    if (b && typeof b.level === 'number') return { level: b.level, charging: !!b.charging };
  }
  return null;
}

export function Battery({ battery }) {
  if (!battery) return <span class="muted">—</span>;
  const lvl = Math.max(0, Math.min(100, battery.level));
  return (
    <span class="battery" aria-label={`battery ${lvl}%${battery.charging ? ' charging' : ''}`}>
      <span class="cell"><span class={`fill ${lvl < 20 ? 'low' : ''}`} style={{ width: `${lvl}%` }} /></span>
      {lvl}%{battery.charging ? ' ⚡' : ''}
    </span>
  );
}

export function ago(ms) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

// Parse a JSON text field; returns {value} or {error}.
export function parseJson(text, { object = false, allowEmpty = false } = {}) {
  if (!text.trim()) return allowEmpty ? { value: undefined } : { error: 'enter JSON' };
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `not valid JSON: ${e.message}` };
  }
  if (object && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return { error: 'must be a JSON object, like {"fan": 2}' };
  }
  return { value };
}
