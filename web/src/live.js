// Live data: the hub's server-sent-event stream GET /api/v1/events
// (docs/api.md). EventSource cannot send an Authorization header, so the
// stream is read with fetch() and a ReadableStream; it reconnects with
// exponential backoff (1 s .. 30 s) until closed.
import { authorization } from './api.js';

// Split an SSE byte stream into events ({event, data}); `buffer` keeps the
// incomplete tail between chunks. Exported for tests.
export function parseSse(buffer) {
  const events = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue; // comment (the hub's pings)
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

// openStream(['$events/devices/+/presence'], (msg) => …, {onStatus})
// msg is the event's JSON ({topic, payload, deviceId?, properties?}).
// onStatus('open' | 'retrying' | 'error', detail). Returns close().
export function openStream(filters, onMessage, { onStatus = () => {} } = {}) {
  let closed = false;
  let controller = null;
  let delay = 1000;
  let timer = null;

  async function connect() {
    controller = new AbortController();
    const url = `/api/v1/events?filter=${encodeURIComponent(filters.join(' '))}`;
    try {
      const res = await fetch(url, {
        headers: { Authorization: authorization(), Accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!res.ok) {
        const text = await res.text();
        let msg = text;
        try {
          msg = JSON.parse(text).error || text;
        } catch {}
        // A refused credential or filter will not get better by retrying.
        if (res.status === 400 || res.status === 401) {
          onStatus('error', `${res.status}: ${msg}`);
          return;
        }
        throw new Error(`${res.status}: ${msg}`);
      }
      onStatus('open');
      delay = 1000;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const { events, rest } = parseSse(buffer);
        buffer = rest;
        for (const e of events) {
          let msg;
          try {
            msg = JSON.parse(e.data);
          } catch {
            continue;
          }
          onMessage(msg, e.event);
        }
      }
      throw new Error('the stream ended');
    } catch (e) {
      if (closed) return;
      onStatus('retrying', `${e.message}; retrying in ${Math.round(delay / 1000)} s`);
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    }
  }

  connect();
  return () => {
    closed = true;
    clearTimeout(timer);
    if (controller) controller.abort();
  };
}

// The device id of a presence/feedback/event topic, when the event lacks it.
export function deviceOf(msg) {
  if (msg.deviceId) return msg.deviceId;
  if (msg.payload && typeof msg.payload === 'object' && msg.payload.deviceId) return msg.payload.deviceId;
  const m = /^(?:\$events\/)?devices\/([^/]+)\//.exec(msg.topic || '');
  return m ? m[1] : null;
}
