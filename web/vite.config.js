// Vite build of the console. The hub serves web/dist at /console/;
// `npm run dev` proxies the API to a running hub (ALLSCENE_HUB, default
// http://127.0.0.1:8080) so the pages can be developed against real data.
import { defineConfig } from 'vite';

const hub = process.env.ALLSCENE_HUB || 'http://127.0.0.1:8080';
const proxied = ['/api', '/devices', '/twins', '/metrics', '/healthz', '/readyz'];

export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 200 },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: hub, changeOrigin: false }])),
  },
});
