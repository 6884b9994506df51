// Sign-in: the admin token (DATA_DIR/admin.token) or a service SAS token,
// checked against the API before it is kept (sessionStorage only).
import { useState } from 'preact/hooks';
import { get, setToken } from '../api.js';
import { ErrorBox } from '../ui.jsx';

export function SignIn({ onSignedIn }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    const token = value.trim();
    if (!token) {
      setError({ message: 'paste a token first' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await get('/api/v1/users', { token });
      setToken(token);
      onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <h1>allscene console</h1>
      <form onSubmit={submit}>
        <label for="token">Service token</label>
        <textarea id="token" rows={3} value={value} onInput={(e) => setValue(e.target.value)}
          placeholder="admin token, or SharedAccessSignature sr=…&sig=…&se=…&skn=iothubowner" autoFocus />
        <p class="hint">
          The hub's admin token is in its data directory: <code>cat allscene-data/admin.token</code>.
          A service SAS token signed with the <code>iothubowner</code> policy works too
          (<code>allscene service connection-string</code>). The token is kept in this tab only.
        </p>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
