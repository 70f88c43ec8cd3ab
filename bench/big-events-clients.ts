// Child process of bench/big-events.ts: CONNECTIONS graphql-ws sockets × PER_CONNECTION identical
// chatEvents subscriptions of one chat, selecting QUERY. Counts events, frame bytes and slow-consumer
// closes; runs in its own process so its JSON parsing does not load the server's.
import WebSocket from 'ws';

const { URL: url, TOKEN: token, CONNECTIONS, PER_CONNECTION, QUERY, CHAT_ID } = process.env;
let events = 0;
let bytes = 0;
let errors = 0;
const closes: Record<string, number> = {};
const sockets: WebSocket[] = [];

await Promise.all(
  Array.from({ length: Number(CONNECTIONS) }, async () => {
    const ws = new WebSocket(url!, 'graphql-transport-ws', { maxPayload: 512 * 1024 * 1024 });
    sockets.push(ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('close', (code) => (closes[code] = (closes[code] ?? 0) + 1));
    const acked = new Promise<void>((resolve) => ws.once('message', () => resolve()));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
    await acked;
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { errors?: unknown } };
      if (message.type !== 'next') return;
      events++;
      bytes += data.length;
      if (message.payload?.errors) errors++;
    });
    for (let s = 0; s < Number(PER_CONNECTION); s++) {
      ws.send(JSON.stringify({ id: String(s), type: 'subscribe', payload: { query: QUERY, variables: { id: CHAT_ID } } }));
    }
  }),
);
process.send?.({ type: 'subscribed' });

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') process.send?.({ type: 'stats', events, bytes, errors, closes });
  if (msg.type === 'close') {
    for (const ws of sockets) ws.close();
    setTimeout(() => process.exit(0), 200);
  }
});
