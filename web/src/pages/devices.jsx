// Devices: every device with live presence, class icon and battery;
// filters and search; a dialog that creates a device and shows its
// credentials once.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { allTwins, get, post } from '../api.js';
import { openStream, deviceOf } from '../live.js';
import { Battery, CLASSES, ClassIcon, ErrorBox, Presence, ago, batteryOf, useAction, useTick } from '../ui.jsx';

export function Devices() {
  const [devices, setDevices] = useState(null);
  const [twins, setTwins] = useState({});
  const [error, setError] = useState(null);
  const [live, setLive] = useState('connecting');
  const [filter, setFilter] = useState({ cls: '', owner: '', online: '', text: '' });
  const [creating, setCreating] = useState(false);
  useTick(5000);

  async function load() {
    try {
      setDevices(await get('/api/v1/devices'));
      setError(null);
    } catch (e) {
      setError(e);
    }
    // Batteries come from the twins; a failure here only hides them.
    try {
      const byId = {};
      for (const t of await allTwins()) byId[t.deviceId] = t;
      setTwins(byId);
    } catch {}
  }

  useEffect(() => {
    load();
    const close = openStream(
      ['$events/devices/+/presence'],
      (msg) => {
        const id = deviceOf(msg);
        const p = msg.payload || {};
        const online = p.connectionState === 'Connected';
        const when = Date.parse(p.time) || Date.now();
        setDevices((list) => {
          if (!list) return list;
          if (!list.some((d) => d.id === id)) {
            load(); // a device this list has not seen yet
            return list;
          }
          return list.map((d) => (d.id === id ? { ...d, connected: online, last_seen_ms: when } : d));
        });
        if (online) setTimeout(load, 1500); // its twin (battery) may follow
      },
      { onStatus: (s, detail) => setLive(detail ? `${s}: ${detail}` : s) },
    );
    // Twins (batteries) change without presence events; refresh them now and then.
    const t = setInterval(load, 15000);
    return () => {
      close();
      clearInterval(t);
    };
  }, []);

  const owners = useMemo(() => [...new Set((devices || []).map((d) => d.owner))].sort(), [devices]);
  const shown = (devices || []).filter((d) => {
    if (filter.cls && d.class !== filter.cls) return false;
    if (filter.owner && d.owner !== filter.owner) return false;
    if (filter.online === 'online' && !d.connected) return false;
    if (filter.online === 'offline' && d.connected) return false;
    const q = filter.text.trim().toLowerCase();
    if (q && ![d.id, d.display_name, d.owner, ...Object.values(d.tags || {})].some((s) => (s || '').toLowerCase().includes(q)))
      return false;
    return true;
  });
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value });

  return (
    <section>
      <div class="title-row">
        <h1>Devices</h1>
        <span class={`live ${live === 'open' ? 'ok' : ''}`} title="live presence stream">
          live: {live}
        </span>
        <button onClick={() => setCreating(true)}>New device</button>
      </div>
      <div class="filters" role="search">
        <input type="search" aria-label="Search devices" placeholder="Search id, name, owner, tag"
          value={filter.text} onInput={set('text')} />
        <select aria-label="Class" value={filter.cls} onChange={set('cls')}>
          <option value="">all classes</option>
          {CLASSES.map((c) => <option value={c}>{c}</option>)}
        </select>
        <select aria-label="Owner" value={filter.owner} onChange={set('owner')}>
          <option value="">all owners</option>
          {owners.map((o) => <option value={o}>{o}</option>)}
        </select>
        <select aria-label="Presence" value={filter.online} onChange={set('online')}>
          <option value="">online and offline</option>
          <option value="online">online</option>
          <option value="offline">offline</option>
        </select>
      </div>
      <ErrorBox error={error} />
      {devices === null && !error && <p>Loading…</p>}
      {devices && (
        <table class="list" aria-label="Devices">
          <thead>
            <tr><th>Status</th><th>Class</th><th>Device</th><th>Owner</th><th>Battery</th><th>Last seen</th></tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.id} data-device={d.id}>
                <td><Presence online={d.connected} /></td>
                <td><ClassIcon cls={d.class} /></td>
                <td>
                  <a href={`#/devices/${encodeURIComponent(d.id)}`}>{d.id}</a>
                  {d.display_name && <div class="muted">{d.display_name}</div>}
                  {!d.enabled && <div class="muted">disabled</div>}
                </td>
                <td>{d.owner}</td>
                <td><Battery battery={batteryOf(twins[d.id])} /></td>
                <td>{d.connected ? 'now' : ago(d.last_seen_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {devices && !shown.length && <p class="muted">No devices{devices.length ? ' match the filter' : ' yet'}.</p>}
      {creating && <CreateDevice owners={owners} onClose={() => setCreating(false)} onCreated={load} />}
    </section>
  );
}

function CreateDevice({ onClose, onCreated }) {
  const [form, setForm] = useState({ id: '', owner: '', cls: 'iot', name: '' });
  const [users, setUsers] = useState([]);
  const [state, run] = useAction();
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });

  useEffect(() => {
    get('/api/v1/users').then((u) => {
      setUsers(u);
      if (u.length) setForm((f) => (f.owner ? f : { ...f, owner: u[0].id }));
    }, () => {});
  }, []);

  async function submit(e) {
    e.preventDefault();
    const body = { id: form.id.trim(), owner: form.owner.trim(), class: form.cls };
    if (form.name.trim()) body.display_name = form.name.trim();
    const r = await run(() => post('/api/v1/devices', body));
    if (r) onCreated();
  }

  const created = state.result;
  const key = created && created.credentials && created.credentials.primary_key;
  const connection = key && `HostName=${location.hostname};DeviceId=${created.device.id};SharedAccessKey=${key}`;

  return (
    <div class="backdrop" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="create-title">
        <h2 id="create-title">New device</h2>
        {!created && (
          <form onSubmit={submit}>
            <label>Device id <input value={form.id} onInput={set('id')} required autoFocus /></label>
            <label>Owner
              <input list="owners" value={form.owner} onInput={set('owner')} required />
              <datalist id="owners">{users.map((u) => <option value={u.id}>{u.display_name}</option>)}</datalist>
            </label>
            <label>Device class
              <select value={form.cls} onChange={set('cls')}>{CLASSES.map((c) => <option value={c}>{c}</option>)}</select>
            </label>
            <label>Display name <input value={form.name} onInput={set('name')} /></label>
            <ErrorBox error={state.error} />
            <div class="buttons">
              <button type="submit" disabled={state.busy}>Create</button>
              <button type="button" class="secondary" onClick={onClose}>Cancel</button>
            </div>
          </form>
        )}
        {created && (
          <div>
            <p>
              Device <strong>{created.device.id}</strong> created. Copy its credentials now:
              <strong> they are shown only this once</strong> (the API never returns them again;
              <code> allscene device token</code> reads them from the data directory).
            </p>
            {key ? (
              <>
                <label>Primary key <input readOnly value={key} onFocus={(e) => e.target.select()} /></label>
                <label>Secondary key <input readOnly value={created.credentials.secondary_key} onFocus={(e) => e.target.select()} /></label>
                <label>Connection string <input readOnly value={connection} onFocus={(e) => e.target.select()} /></label>
                <p class="hint">HostName must be the hub's <code>[auth] hub_host</code> when one is configured.</p>
              </>
            ) : (
              <pre class="json">{JSON.stringify(created.credentials, null, 2)}</pre>
            )}
            <div class="buttons"><button onClick={onClose}>Done</button></div>
          </div>
        )}
      </div>
    </div>
  );
}
