import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` serves the dashboard on http://127.0.0.1:5173 and proxies /graphql (HTTP and
// WebSocket) to the gateway, CHATGRAPH_URL (default: the one `npm start` runs), so the page and
// the API share an origin. When the gateway next door runs on its embedded demo database, alice's
// demo token is offered on the sign-in screen (dev server only; a build never contains a token).
const gateway = process.env.CHATGRAPH_URL ?? 'http://127.0.0.1:4000';
const demoTokens = fileURLToPath(new URL('../.chatgraph/demo-tokens.json', import.meta.url));
const proxy = { '/graphql': { target: gateway, ws: true, changeOrigin: true } };

export default defineConfig(({ command }) => ({
  plugins: [react()],
  define: {
    'import.meta.env.VITE_DEMO_TOKEN': JSON.stringify(
      command === 'serve' && existsSync(demoTokens) ? (JSON.parse(readFileSync(demoTokens, 'utf8')) as { alice?: string }).alice ?? '' : '',
    ),
  },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
}));
