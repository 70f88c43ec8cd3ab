// Child process of bench/parts.ts: SUBSCRIBERS chatEvents subscriptions per chat, split over the
// two gateways, and one worker publishing RATE batches/s into every chat over graphql-ws. Each
// batch's text starts with its send time, so publish → client latency is measured on one clock.
// Runs apart from both gateways so its work does not count as theirs.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const env = process.env;
const urls = [env.URL_A!, env.URL_B!];
const chats = env.CHAT_IDS!.split(',');
const subscribersPerChat = Number(env.SUBSCRIBERS);
const rate = Number(env.RATE);
const seconds = Number(env.SECONDS);
const PER_SOCKET = 50;
const EVENTS = 'subscription ($chatId: ID!) { chatEvents(chatId: $chatId) { kind seq parts { text } } }';
const PUBLISH = `mutation ($input: PublishChatMessagePartsInput!) { publishChatMessageParts(input: $input) { __typename ... on RateLimitedError { retryAfterMs } } }`;
const FILLER = ' lorem ipsum dolor sit amet, consectetur adipiscing elit'.repeat(2);

const clock = () => performance.timeOrigin + performance.now();
const clients: Client[] = [];
const client = (url: string, token: string) => {
  const c = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authToken: token }, lazy: false, retryAttempts: 0 });
  clients.push(c);
  return c;
};

let measuring = false;
const latencies: number[] = [];
let delivered = 0;
let gaps = 0;
let duplicates = 0;
let errors = 0;
const firstSeen: boolean[] = [];

// Subscribers: half on each gateway, PER_SOCKET per socket.
let socket: Client | undefined;
let onSocket = 0;
let index = 0;
for (const chatId of chats) {
  for (let s = 0; s < subscribersPerChat; s++) {
    const url = urls[s % 2]!;
    if (!socket || onSocket === PER_SOCKET || (socket as unknown as { url?: string }).url !== url) {
      socket = client(url, env.USER_TOKEN!);
      (socket as unknown as { url?: string }).url = url;
      onSocket = 0;
    }
    onSocket++;
    const me = index++;
    firstSeen[me] = false;
    let last = -1;
    socket.subscribe<{ chatEvents: { kind: string; seq: number | null; parts: Array<{ text: string | null }> | null } }>(
      { query: EVENTS, variables: { chatId } },
      {
        next: ({ data, errors: e }) => {
          if (e) errors++;
          const ev = data?.chatEvents;
          if (!ev || ev.kind !== 'MESSAGE_PART' || ev.seq === null) return;
          firstSeen[me] = true;
          if (ev.seq <= last) duplicates++;
          else if (ev.seq !== last + 1) gaps++;
          last = Math.max(last, ev.seq);
          if (!measuring) return;
          delivered++;
          const sent = Number(ev.parts?.[0]?.text?.split(' ')[0]);
          if (Number.isFinite(sent)) latencies.push(clock() - sent);
        },
        error: () => errors++,
        complete: () => undefined,
      },
    );
  }
}

// The worker: one socket per 10 chats, batches fired on a fixed schedule (not waiting for answers).
const workers = Array.from({ length: Math.ceil(chats.length / 10) }, () => client(urls[0]!, env.WORKER_TOKEN!));
const seqs = chats.map(() => 0);
const outcome = { accepted: 0, limited: 0, failed: 0 };
const publishLatencies: number[] = [];
function publish(i: number): Promise<void> {
  const seq = seqs[i]!++;
  const sent = clock();
  return new Promise((resolve) => {
    workers[Math.floor(i / 10)]!.subscribe<{ publishChatMessageParts: { __typename: string } }>(
      { query: PUBLISH, variables: { input: { chatId: chats[i], workerId: 'bench-worker', attempt: 1, seq, parts: [{ type: 'text', text: `${sent}${FILLER}` }] } } },
      {
        next: ({ data }) => {
          const type = data?.publishChatMessageParts.__typename;
          if (type === 'PublishChatMessagePartsPayload') outcome.accepted += measuring ? 1 : 0;
          else if (type === 'RateLimitedError') outcome.limited++;
          else {
            outcome.failed++;
            if (outcome.failed <= 3) process.stderr.write(`[parts] publish failed: ${JSON.stringify(data)}\n`);
          }
          if (measuring) publishLatencies.push(clock() - sent);
        },
        error: (err) => {
          outcome.failed++;
          if (outcome.failed <= 3) process.stderr.write(`[parts] publish error: ${JSON.stringify(err)}\n`);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10 : NaN;
};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  // Warm-up: one batch per chat until every subscription has seen one (all registered, on both gateways).
  const deadline = Date.now() + 60_000;
  while (!firstSeen.every(Boolean)) {
    if (Date.now() > deadline) throw new Error(`subscriptions not ready: ${firstSeen.filter(Boolean).length}/${firstSeen.length}`);
    await Promise.all(chats.map((_, i) => publish(i)));
    await wait(200);
  }
  await wait(500);
  process.send!({ type: 'measuring' });
  measuring = true;
  const cpu0 = process.cpuUsage();
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  const interval = 1000 / rate;
  for (let tick = 0; performance.now() - start < seconds * 1000; tick++) {
    for (let i = 0; i < chats.length; i++) pending.push(publish(i));
    const next = start + (tick + 1) * interval;
    await wait(Math.max(0, next - performance.now()));
  }
  const publishedFor = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const clientCpuShare = Math.round(((cpu.user + cpu.system) / 1000 / (publishedFor * 1000)) * 100);
  await Promise.all(pending);
  process.send!({ type: 'published' });
  const expected = outcome.accepted * subscribersPerChat;
  for (let i = 0; i < 100 && delivered < expected; i++) await wait(100);
  measuring = false;
  process.send!({
    type: 'result',
    result: {
      chats: chats.length, subscribersPerChat, rate, seconds: Math.round(publishedFor * 10) / 10,
      accepted: outcome.accepted, limited: outcome.limited, failed: outcome.failed,
      delivered, expected, gaps, duplicates, errors,
      p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99), max: pct(latencies, 100),
      publishP50: pct(publishLatencies, 50), publishP99: pct(publishLatencies, 99), clientCpuShare,
    },
  });
  await Promise.all(clients.map((c) => c.dispose()));
  process.exit(0);
}

main().catch((err) => {
  process.send!({ type: 'error', error: String(err) });
  process.exit(1);
});
