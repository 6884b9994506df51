// One device: its twin (view; edit desired with If-Match), a direct
// method, a cloud-to-device message, and a live trace of its events,
// presence and messages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, get, post, request } from '../api.js';
import { openStream } from '../live.js';
import { Battery, ClassIcon, ErrorBox, Json, Presence, ago, batteryOf, parseJson, useAction, useTick } from '../ui.jsx';

// A twin without the bookkeeping the editor does not need to show.
function plain(section) {
  if (!section) return {};
  const out = {};
  for (const [k, v] of Object.entries(section)) if (!k.startsWith('$')) out[k] = v;
  return out;
}

export function DeviceDetail({ id }) {
  const [device, setDevice] = useState(null);
  const [twin, setTwin] = useState(null);
  const [error, setError] = useState(null);
  const [twinError, setTwinError] = useState(null);
  useTick(5000);

  async function loadTwin() {
    try {
      setTwin(await get(`/twins/${enc(id)}`));
      setTwinError(null);
    } catch (e) {
      if (e.status === 404) setError(e);
      else setTwinError(e); // shown above a twin that may now be stale
    }
  }

  useEffect(() => {
    get(`/api/v1/devices/${enc(id)}`).then(setDevice, setError);
    loadTwin();
    // Reported properties change without an event on the stream the
    // console reads, so the twin is re-read every 2 s while shown.
    const t = setInterval(loadTwin, 2000);
    return () => clearInterval(t);
  }, [id]);

  const onPresence = (online, when) => setDevice((d) => d && { ...d, connected: online, last_seen_ms: when });

  if (error) return <section><h1>{id}</h1><ErrorBox error={error} /><a href="#/devices">Back to devices</a></section>;
  if (!device) return <section><h1>{id}</h1><p>Loading…</p></section>;

  return (
    <section>
      <div class="title-row">
        <ClassIcon cls={device.class} />
        <h1>{device.id}</h1>
        <Presence online={device.connected} />
        <Battery battery={batteryOf(twin)} />
      </div>
      <p class="muted">
        {device.display_name && <>{device.display_name} · </>}
        {device.class} · owner <a href="#/users">{device.owner}</a> · {device.auth} ·{' '}
        {device.enabled ? 'enabled' : 'disabled'} · last seen {device.connected ? 'now' : ago(device.last_seen_ms)}
      </p>
      <ErrorBox error={twinError} />
      <div class="grid2">
        <TwinPanel id={id} twin={twin} onTwin={setTwin} />
        <div>
          <MethodPanel id={id} />
          <MessagePanel id={id} />
        </div>
      </div>
      <Trace id={id} onPresence={onPresence} />
    </section>
  );
}

function TwinPanel({ id, twin, onTwin }) {
  const [text, setText] = useState('{\n  \n}');
  const [invalid, setInvalid] = useState(null);
  const [state, run] = useAction();

  async function submit(e) {
    e.preventDefault();
    const parsed = parseJson(text, { object: true });
    setInvalid(parsed.error || null);
    if (parsed.error) return;
    const headers = twin && twin.etag ? { 'If-Match': `"${twin.etag}"` } : {};
    const r = await run(() =>
      request('PATCH', `/twins/${enc(id)}`, { properties: { desired: parsed.value } }, { headers }).then((x) => x.data),
    );
    if (r) onTwin(r);
  }

  const conflict = state.error && state.error.status === 412;
  return (
    <div class="panel">
      <h2>Twin</h2>
      {!twin && <p>Loading twin…</p>}
      {twin && (
        <>
          <p class="muted">etag <code aria-label="etag">{twin.etag}</code> · version {twin.version}</p>
          <h3>Desired</h3>
          <Json label="Desired properties" value={plain(twin.properties && twin.properties.desired)} />
          <h3>Reported</h3>
          <Json label="Reported properties" value={plain(twin.properties && twin.properties.reported)} />
          {twin.tags && Object.keys(twin.tags).length > 0 && (<><h3>Tags</h3><Json label="Tags" value={twin.tags} /></>)}
        </>
      )}
      <form onSubmit={submit}>
        <label for="desired">Desired patch (JSON merge patch; null deletes a property)</label>
        <textarea id="desired" aria-label="Desired patch" rows={4} value={text} onInput={(e) => setText(e.target.value)}
          aria-invalid={invalid ? 'true' : undefined} />
        {invalid && <div class="error" role="alert">{invalid}</div>}
        {conflict && (
          <div class="error" role="alert">
            <strong>412 the twin changed since it was shown</strong> (its etag is no longer {twin && twin.etag}).
            Nothing was changed: look at the new twin and send the patch again.
          </div>
        )}
        {!conflict && <ErrorBox error={state.error} />}
        <button type="submit" disabled={state.busy || !twin}>Update desired</button>
        {state.result && <span class="ok-text" role="status"> desired updated (version {state.result.properties.desired.$version})</span>}
      </form>
    </div>
  );
}

function MethodPanel({ id }) {
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('{}');
  const [timeout, setTimeoutS] = useState('30');
  const [invalid, setInvalid] = useState(null);
  const [state, run] = useAction();

  async function submit(e) {
    e.preventDefault();
    const parsed = parseJson(payload, { allowEmpty: true });
    setInvalid(parsed.error || null);
    if (parsed.error) return;
    const body = { methodName: name.trim(), responseTimeoutInSeconds: Number(timeout) || 30 };
    if (parsed.value !== undefined) body.payload = parsed.value;
    await run(() => post(`/twins/${enc(id)}/methods`, body));
  }

  return (
    <form class="panel" onSubmit={submit}>
      <h2>Direct method</h2>
      <label>Method name <input value={name} onInput={(e) => setName(e.target.value)} required placeholder="reboot" /></label>
      <label>Method payload (JSON) <textarea rows={3} value={payload} onInput={(e) => setPayload(e.target.value)} /></label>
      <label>Timeout (s) <input type="number" min="1" max="300" value={timeout} onInput={(e) => setTimeoutS(e.target.value)} /></label>
      {invalid && <div class="error" role="alert">{invalid}</div>}
      <ErrorBox error={state.error} />
      <button type="submit" disabled={state.busy}>{state.busy ? 'Waiting for the device…' : 'Invoke method'}</button>
      {state.result && (
        <div role="status" aria-label="Method result">
          <p>status <strong>{state.result.status}</strong></p>
          <Json label="Method response" value={state.result.payload} />
        </div>
      )}
    </form>
  );
}

function MessagePanel({ id }) {
  const [payload, setPayload] = useState('');
  const [props, setProps] = useState('');
  const [ttl, setTtl] = useState('3600');
  const [invalid, setInvalid] = useState(null);
  const [state, run] = useAction();

  async function submit(e) {
    e.preventDefault();
    const p = parseJson(props, { object: true, allowEmpty: true });
    if (p.error || (p.value && Object.values(p.value).some((v) => typeof v !== 'string'))) {
      setInvalid(`properties: ${p.error || 'every value must be a string'}`);
      return;
    }
    setInvalid(null);
    // JSON text is sent as JSON, anything else as a plain string.
    const asJson = parseJson(payload);
    const body = { payload: asJson.error ? payload : asJson.value, ttlSeconds: Number(ttl) || 3600 };
    if (p.value) body.properties = p.value;
    await run(() => post(`/api/v1/devices/${enc(id)}/messages`, body));
  }

  return (
    <form class="panel" onSubmit={submit}>
      <h2>Cloud-to-device message</h2>
      <label>Message payload <textarea rows={2} value={payload} onInput={(e) => setPayload(e.target.value)} required /></label>
      <label>Message properties (JSON object of strings, optional)
        <input value={props} onInput={(e) => setProps(e.target.value)} placeholder='{"color": "red"}' />
      </label>
      <label>Time to live (s) <input type="number" min="1" value={ttl} onInput={(e) => setTtl(e.target.value)} /></label>
      {invalid && <div class="error" role="alert">{invalid}</div>}
      <ErrorBox error={state.error} />
      <button type="submit" disabled={state.busy}>Send message</button>
      {state.result && <span role="status" class="ok-text"> queued as {state.result.messageId}</span>}
    </form>
  );
}

// A filter level cannot hold '+' or '#'; such ids are followed through
// the wildcard and picked out here.
function deviceFilters(id) {
  const safe = !/[+#]/.test(id) && !id.includes('/');
  const d = safe ? id : '+';
  return {
    filters: [
      `$events/devices/${d}/presence`,
      `$events/devices/${d}/feedback`,
      `devices/${d}/messages/events/#`,
      `devices/${d}/messages/devicebound/#`,
    ],
    mine: (msg) => safe || msg.deviceId === id || (msg.payload && msg.payload.deviceId === id),
  };
}

function kindOf(topic) {
  if (topic.endsWith('/presence')) return 'presence';
  if (topic.endsWith('/feedback')) return 'feedback';
  if (topic.includes('/messages/devicebound')) return 'to device';
  return 'from device';
}

function Trace({ id, onPresence }) {
  const [entries, setEntries] = useState([]);
  const [status, setStatus] = useState('connecting');
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    const { filters, mine } = deviceFilters(id);
    let n = 0;
    return openStream(
      filters,
      (msg) => {
        if (!mine(msg)) return;
        const kind = kindOf(msg.topic || '');
        if (kind === 'presence' && msg.payload) {
          onPresence(msg.payload.connectionState === 'Connected', Date.parse(msg.payload.time) || Date.now());
        }
        if (pausedRef.current) return;
        // The stream decodes the property bag of device-to-cloud events only;
        // a message to the device carries its bag in the topic's last level.
        if (kind === 'to device' && !msg.properties) {
          const bag = (msg.topic || '').split('/messages/devicebound/')[1];
          if (bag) msg = { ...msg, properties: Object.fromEntries(new URLSearchParams(bag)) };
        }
        const entry = { n: n++, at: new Date(), kind, msg };
        setEntries((list) => [entry, ...list].slice(0, 200));
      },
      { onStatus: (s, detail) => setStatus(detail ? `${s}: ${detail}` : s) },
    );
  }, [id]);

  return (
    <div class="panel">
      <div class="title-row">
        <h2>Live trace</h2>
        <span class={`live ${status === 'open' ? 'ok' : ''}`}>live: {status}</span>
        <button class="secondary" onClick={() => setPaused(!paused)}>{paused ? 'Resume' : 'Pause'}</button>
        <button class="secondary" onClick={() => setEntries([])}>Clear</button>
      </div>
      <ol class="trace" role="log" aria-label="Message trace">
        {entries.map((e) => (
          <li key={e.n} class={`k-${e.kind.replace(' ', '-')}`}>
            <time>{e.at.toLocaleTimeString()}</time> <span class="kind">{e.kind}</span>{' '}
            {e.msg.properties && Object.keys(e.msg.properties).length > 0 && (
              <span class="muted">{Object.entries(e.msg.properties).map(([k, v]) => `${k}=${v}`).join(' ')} </span>
            )}
            <code>{typeof e.msg.payload === 'string' ? e.msg.payload : JSON.stringify(e.msg.payload)}</code>
          </li>
        ))}
        {!entries.length && <li class="muted">Nothing yet: events, messages and presence of {id} appear here as they happen.</li>}
      </ol>
    </div>
  );
}
