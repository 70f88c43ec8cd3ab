// Child process of bench/fanout.ts: opens CONNECTIONS graphql-ws sockets × PER_CONNECTION
// chatWatch subscriptions, and measures event → client latency from the timestamp the writer
// puts in the chat title. Runs in its own process so client work does not load the server's.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const { URL: url, TOKEN: token, CONNECTIONS, PER_CONNECTION } = process.env;
const connections = Number(CONNECTIONS);
const perConnection = Number(PER_CONNECTION);
const latencies: number[] = [];
const clients: Client[] = [];

for (let c = 0; c < connections; c++) {
  const client = createClient({ url: url!, webSocketImpl: WebSocket, connectionParams: { authToken: token }, lazy: false, retryAttempts: 0 });
  clients.push(client);
  for (let s = 0; s < perConnection; s++) {
    client.subscribe<{ chatWatch: { kind: string; chat: { title: string } } }>(
      { query: 'subscription { chatWatch { cursor kind chat { id title } } }' },
      {
        next: ({ data }) => {
          const sent = Number(data?.chatWatch.chat.title.replace('t', ''));
          if (data?.chatWatch.kind === 'TITLE_CHANGE' && Number.isFinite(sent)) latencies.push(Date.now() - sent);
        },
        error: (err) => process.send?.({ type: 'error', error: String(err) }),
        complete: () => undefined,
      },
    );
  }
}
process.send?.({ type: 'subscribed' });

process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'stats') {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    process.send?.({ type: 'stats', count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? NaN });
  }
  if (msg.type === 'close') {
    await Promise.all(clients.map((c) => c.dispose()));
    process.exit(0);
  }
});
