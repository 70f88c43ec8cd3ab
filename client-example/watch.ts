import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, subscriptionExchange } from '@urql/core';
import WebSocket from 'ws';
import { createGatewaySocket } from './src/client.js';
import { ChatWatchSubscription } from './src/documents.js';
import { LiveMerge, type WatchEvent } from './src/liveMerge.js';
import { resumingSubscriptions } from './src/resume.js';

/**
 * The terminal watcher: prints the viewer's chat events as they happen (time, kind, title,
 * status, model) and keeps the last cursor in a file, so a restart resumes where it stopped
 * (the server replays what happened in between). It shares the dashboard's resume logic and
 * cursor bookkeeping (LiveMerge), not its cache: every event is printed whole.
 *
 *   npm run watch -- [--url http://127.0.0.1:4000/graphql] [--token cg_…] [--cursor-file path]
 *
 * The token defaults to CHATGRAPH_TOKEN, then to alice's demo token from ../.chatgraph.
 */
const here = dirname(new URL(import.meta.url).pathname);
const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.CHATGRAPH_URL ? `${process.env.CHATGRAPH_URL.replace(/\/graphql$/, '')}/graphql` : 'http://127.0.0.1:4000/graphql' },
    token: { type: 'string', default: process.env.CHATGRAPH_TOKEN },
    'cursor-file': { type: 'string', default: join(here, '.watch-cursor') },
  },
});

function demoToken(): string | undefined {
  const file = join(here, '..', '.chatgraph', 'demo-tokens.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { alice?: string }).alice : undefined;
}

const token = values.token ?? demoToken();
if (!token) {
  process.stderr.write('watch: no token: pass --token, set CHATGRAPH_TOKEN, or run `npm start` once for the demo tokens\n');
  process.exit(2);
}
const cursorFile = resolve(values['cursor-file']);
const STREAM = 'chatWatch';

const merge = new LiveMerge();
const saved = existsSync(cursorFile) ? readFileSync(cursorFile, 'utf8').trim() : '';
if (saved) merge.resumeFrom(STREAM, saved);

const ws = createGatewaySocket(values.url, token, {
  webSocketImpl: WebSocket,
  on: { closed: () => process.stderr.write('watch: disconnected, resuming from the last cursor…\n') },
});
const client = new Client({
  url: values.url,
  exchanges: [subscriptionExchange({ forwardSubscription: resumingSubscriptions(ws, merge) })],
});

function line(event: WatchEvent): string {
  const time = new Date(event.occurredAt).toLocaleTimeString('en-GB');
  return [time, event.kind.padEnd(19), JSON.stringify(event.chat.title), event.chat.status, event.chat.lastModelConfig.displayName].join('  ');
}

process.stderr.write(`watch: ${values.url}${saved ? ', resuming after the saved cursor' : ''} (cursor file ${cursorFile})\n`);
const subscription = client.subscription(ChatWatchSubscription, saved ? { after: saved } : {}).subscribe((result) => {
  if (result.error) {
    process.stderr.write(`watch: ${result.error.message}\n`);
    return;
  }
  const event = result.data?.chatWatch;
  // accept() records the cursor the next reconnect resumes from, and drops replayed duplicates.
  if (!event || merge.accept(STREAM, event) === 'duplicate') return;
  process.stdout.write(`${line(event)}\n`);
  // Written after the line is printed: a crash in between repeats an event, never skips one.
  writeFileSync(`${cursorFile}.tmp`, `${event.cursor}\n`);
  renameSync(`${cursorFile}.tmp`, cursorFile);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    subscription.unsubscribe();
    void ws.dispose();
    process.exit(0);
  });
}
