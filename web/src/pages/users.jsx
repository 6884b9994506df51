// Users and their device groups (a user's devices are the group that
// shares clipboard, files, notifications … — docs/ecosystem.md).
import { useEffect, useState } from 'preact/hooks';
import { enc, get, post, request } from '../api.js';
import { ClassIcon, ErrorBox, Presence, useAction } from '../ui.jsx';

export function Users() {
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [form, setForm] = useState({ id: '', name: '' });
  const [state, run] = useAction();

  const load = () => get('/api/v1/users').then((u) => { setUsers(u); setError(null); }, setError);
  useEffect(() => { load(); }, []);

  async function create(e) {
    e.preventDefault();
    const body = { id: form.id.trim() };
    if (form.name.trim()) body.display_name = form.name.trim();
    if (await run(() => post('/api/v1/users', body))) {
      setForm({ id: '', name: '' });
      load();
    }
  }

  return (
    <section>
      <h1>Users</h1>
      <form class="inline" onSubmit={create} aria-label="New user">
        <label>User id <input value={form.id} onInput={(e) => setForm({ ...form, id: e.target.value })} required /></label>
        <label>Display name <input value={form.name} onInput={(e) => setForm({ ...form, name: e.target.value })} /></label>
        <button type="submit" disabled={state.busy}>Create user</button>
      </form>
      <ErrorBox error={state.error} />
      <ErrorBox error={error} />
      <div class="grid2">
        <table class="list" aria-label="Users">
          <thead><tr><th>User</th><th>Name</th><th>Created</th></tr></thead>
          <tbody>
            {(users || []).map((u) => (
              <tr key={u.id} aria-selected={selected === u.id ? 'true' : undefined}>
                <td><button class="link" onClick={() => setSelected(u.id)}>{u.id}</button></td>
                <td>{u.display_name}</td>
                <td>{new Date(u.created_ms).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {selected && <Group id={selected} onDeleted={() => { setSelected(null); load(); }} />}
      </div>
      {users && !users.length && <p class="muted">No users yet.</p>}
    </section>
  );
}

function Group({ id, onDeleted }) {
  const [devices, setDevices] = useState(null);
  const [error, setError] = useState(null);
  const [state, run] = useAction();

  useEffect(() => {
    setDevices(null);
    get(`/api/v1/devices?owner=${enc(id)}`).then(setDevices, setError);
  }, [id]);

  async function remove() {
    if (!confirm(`Delete user ${id}?`)) return;
    if (await run(() => request('DELETE', `/api/v1/users/${enc(id)}`))) onDeleted();
  }

  return (
    <div class="panel" aria-label={`Device group of ${id}`} role="region">
      <h2>{id}'s device group</h2>
      <ErrorBox error={error} />
      {devices && !devices.length && <p class="muted">No devices yet.</p>}
      <ul class="group">
        {(devices || []).map((d) => (
          <li key={d.id}>
            <ClassIcon cls={d.class} /> <a href={`#/devices/${enc(d.id)}`}>{d.display_name || d.id}</a>{' '}
            <Presence online={d.connected} />
          </li>
        ))}
      </ul>
      <ErrorBox error={state.error} />
      <button class="secondary" onClick={remove} disabled={state.busy}>Delete user</button>
    </div>
  );
}
