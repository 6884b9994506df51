// Services playground: translation, the assistant (typed or recorded
// audio, spoken answers played back) and travel itineraries.
import { useEffect, useState } from 'preact/hooks';
import { get, service } from '../api.js';
import { ErrorBox, Json, useAction } from '../ui.jsx';
import { startRecording } from '../wav.js';

export function Services() {
  const [users, setUsers] = useState([]);
  const [list, setList] = useState(null);
  useEffect(() => {
    get('/api/v1/users').then(setUsers, () => {});
    get('/api/v1/services').then(setList, () => setList([]));
  }, []);
  const has = (name) => !list || !list.length || list.some((s) => s.name === name);
  return (
    <section>
      <h1>Services</h1>
      {list && list.length > 0 && (
        <p class="muted">This hub runs: {list.map((s) => `${s.name} (${s.operations.join(', ')})`).join('; ')}.</p>
      )}
      <div class="grid2">
        {has('translation') && <Translation />}
        {has('assistant') && <Assistant users={users} />}
        {has('travel') && <Travel users={users} />}
      </div>
    </section>
  );
}

function UserPicker({ users, value, onChange, label = 'Acting for user' }) {
  return (
    <label>{label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">(choose a user)</option>
        {users.map((u) => <option value={u.id}>{u.display_name ? `${u.id} — ${u.display_name}` : u.id}</option>)}
      </select>
    </label>
  );
}

function Translation() {
  const [pairs, setPairs] = useState([]);
  const [pairsError, setPairsError] = useState(null);
  const [pair, setPair] = useState('');
  const [text, setText] = useState('Good morning. Where is the train station?');
  const [state, run] = useAction();

  useEffect(() => {
    service('translation', 'pairs').then((p) => {
      const list = Array.isArray(p) ? p : p.pairs || [];
      setPairs(list);
      const preferred = list.find((x) => x.pair === 'eng-spa') || list[0];
      if (preferred) setPair(preferred.pair);
    }, setPairsError);
  }, []);

  const submit = (e) => {
    e.preventDefault();
    run(() => service('translation', 'translate', { pair, text }));
  };

  return (
    <form class="panel" onSubmit={submit} aria-label="Translation">
      <h2>Translation</h2>
      <ErrorBox error={pairsError} />
      <label>Language pair
        <select value={pair} onChange={(e) => setPair(e.target.value)}>
          {pairs.map((p) => (
            <option value={p.pair}>{p.from} → {p.to}{p.variant ? ` (${p.variant})` : ''} · {p.pair}</option>
          ))}
        </select>
      </label>
      <label>Text to translate <textarea rows={3} value={text} onInput={(e) => setText(e.target.value)} /></label>
      <ErrorBox error={state.error} />
      <button type="submit" disabled={state.busy || !pair}>Translate</button>
      {state.result && (
        <div role="status" aria-label="Translation result">
          <p class="result">{state.result.text}</p>
          <p class="muted">
            {state.result.pair} · {Math.round(state.result.ms * 10) / 10} ms
            {state.result.unknown && state.result.unknown.length > 0 && <> · unknown: {state.result.unknown.join(', ')}</>}
          </p>
        </div>
      )}
    </form>
  );
}

function Assistant({ users }) {
  const [user, setUser] = useState('');
  const [text, setText] = useState('which of my devices are online');
  const [speak, setSpeak] = useState(false);
  const [recording, setRecording] = useState(null);
  const [recError, setRecError] = useState(null);
  const [state, run] = useAction();

  useEffect(() => { if (!user && users.length) setUser(users[0].id); }, [users]);

  const ask = (body) => run(() => service('assistant', 'ask', { ...body, ...(speak ? { speak: true } : {}) }, user || undefined));

  async function toggleRecording() {
    setRecError(null);
    if (!recording) {
      try {
        setRecording(await startRecording());
      } catch (e) {
        setRecError({ message: `cannot record: ${e.message}` });
      }
      return;
    }
    const r = recording;
    setRecording(null);
    try {
      const wav = await r.stop();
      await ask({ audio: wav.base64 });
    } catch (e) {
      setRecError({ message: `cannot encode the recording: ${e.message}` });
    }
  }

  const res = state.result;
  const audio = res && res.audio && res.audio.base64 ? `data:${res.audio.mime || 'audio/wav'};base64,${res.audio.base64}` : null;
  return (
    <form class="panel" onSubmit={(e) => { e.preventDefault(); ask({ text }); }} aria-label="Assistant">
      <h2>Assistant</h2>
      <UserPicker users={users} value={user} onChange={setUser} />
      <label>Request <input value={text} onInput={(e) => setText(e.target.value)} /></label>
      <label class="check"><input type="checkbox" checked={speak} onChange={(e) => setSpeak(e.target.checked)} /> Speak the answer</label>
      <div class="buttons">
        <button type="submit" disabled={state.busy || !user}>Ask</button>
        <button type="button" class={recording ? 'recording' : 'secondary'} onClick={toggleRecording} disabled={state.busy || !user}>
          {recording ? 'Stop and send' : 'Record a request'}
        </button>
      </div>
      <ErrorBox error={recError} />
      <ErrorBox error={state.error} />
      {res && (
        <div role="status" aria-label="Assistant answer">
          {res.heard && <p class="muted">heard: “{res.heard}”</p>}
          <p class="result">{res.answer || res.question}</p>
          {audio && <audio controls autoPlay src={audio} aria-label="Spoken answer" />}
          <details><summary>Full answer</summary><Json value={{ ...res, audio: res.audio ? '…' : undefined }} /></details>
        </div>
      )}
    </form>
  );
}

function Travel({ users }) {
  const [user, setUser] = useState('');
  const [date, setDate] = useState('');
  const [email, setEmail] = useState('');
  const [state, run] = useAction();
  useEffect(() => { if (!user && users.length) setUser(users[0].id); }, [users]);

  const call = (op, body) => run(async () => ({ op, data: await service('travel', op, body, user) }));
  const res = state.result;
  const items = res && res.data && res.data.items;

  return (
    <div class="panel" role="region" aria-label="Travel">
      <h2>Travel</h2>
      <UserPicker users={users} value={user} onChange={setUser} />
      <div class="buttons">
        <button type="button" disabled={!user || state.busy} onClick={() => call('list', {})}>List itinerary</button>
        <button type="button" disabled={!user || state.busy} onClick={() => call('next_flight', {})}>Next flight</button>
      </div>
      <label>Day (empty: today) <input type="date" value={date} onInput={(e) => setDate(e.target.value)} /></label>
      <button type="button" disabled={!user || state.busy} onClick={() => call('day', date ? { date } : {})}>Day plan</button>
      <label>Booking confirmation e-mail <textarea rows={3} value={email} onInput={(e) => setEmail(e.target.value)} /></label>
      <button type="button" disabled={!user || !email.trim() || state.busy} onClick={() => call('parse', { text: email })}>
        Add from e-mail
      </button>
      <ErrorBox error={state.error} />
      {items && items.length > 0 && (
        <table class="list" aria-label="Itinerary">
          <thead><tr><th>What</th><th>Starts</th><th>Ends</th></tr></thead>
          <tbody>
            {items.map((it) => (
              <tr key={it.id}>
                <td>{it.title || it.kind}</td>
                <td>{it.plan ? it.plan.start : it.start && it.start.text}</td>
                <td>{it.plan ? it.plan.end : it.end && it.end.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items && !items.length && <p class="muted">Nothing planned{res.data.date ? ` on ${res.data.date} (${res.data.zone})` : ''}.</p>}
      {res && !items && <Json label="Travel answer" value={res.data} />}
    </div>
  );
}
