// The console's shell: sign-in gate, navigation and hash routing
// (#/devices, #/devices/ID, #/users, #/services, #/dashboard), so the hub
// needs no route of its own beyond serving index.html.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { clearToken, getToken } from './api.js';
import { SignIn } from './pages/signin.jsx';
import { Devices } from './pages/devices.jsx';
import { DeviceDetail } from './pages/device.jsx';
import { Users } from './pages/users.jsx';
import { Services } from './pages/services.jsx';
import './style.css';

// The dashboard brings uPlot; it is loaded only when opened, so the other
// pages start with a smaller bundle.
function Dashboard() {
  const [Page, setPage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    import('./pages/dashboard.jsx').then((m) => setPage(() => m.Dashboard), setError);
  }, []);
  if (error) return <div class="error" role="alert">cannot load the dashboard: {error.message}</div>;
  return Page ? <Page /> : <p>Loading…</p>;
}

const PAGES = [
  ['devices', 'Devices'],
  ['users', 'Users'],
  ['services', 'Services'],
  ['dashboard', 'Dashboard'],
];

function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  return { page: parts[0] || 'devices', arg: parts[1] ? decodeURIComponent(parts.slice(1).join('/')) : null };
}

function App() {
  const [token, setTok] = useState(getToken());
  const [route, setRoute] = useState(currentRoute());

  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    // A 401 from any page means the token no longer works: back to sign-in.
    const onUnauthorized = () => {
      clearToken();
      setTok('');
    };
    addEventListener('hashchange', onHash);
    addEventListener('allscene:unauthorized', onUnauthorized);
    return () => {
      removeEventListener('hashchange', onHash);
      removeEventListener('allscene:unauthorized', onUnauthorized);
    };
  }, []);

  useEffect(() => {
    const name = PAGES.find(([p]) => p === route.page);
    document.title = `${token ? (route.arg || (name ? name[1] : 'allscene')) : 'Sign in'} · allscene console`;
  }, [route, token]);

  if (!token) return <SignIn onSignedIn={() => setTok(getToken())} />;

  let page;
  if (route.page === 'devices' && route.arg) page = <DeviceDetail id={route.arg} />;
  else if (route.page === 'users') page = <Users />;
  else if (route.page === 'services') page = <Services />;
  else if (route.page === 'dashboard') page = <Dashboard />;
  else page = <Devices />;

  return (
    <>
      <header class="top">
        <span class="brand">allscene</span>
        <nav aria-label="Main">
          {PAGES.map(([p, label]) => (
            <a href={`#/${p}`} aria-current={route.page === p ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <button
          class="link"
          onClick={() => {
            clearToken();
            setTok('');
          }}
        >
          Sign out
        </button>
      </header>
      <main key={`${route.page}/${route.arg || ''}`}>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app'));
