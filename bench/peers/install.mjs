// Installs the bench-only dependencies (bench/peers/package.json: PostGraphile, autocannon, pg)
// into bench/peers/node_modules, only when they are missing or its package-lock.json changed
// since, so the root `npm ci` of users and CI never downloads them. Run by `npm run bench`. They
// live in their own folder, not bench/, so that their copies of graphql, ws and graphql-ws
// shadow only the files in bench/peers/ (the PostGraphile server and the autocannon driver),
// never the bench's other files, which must share chatgraph's own instances.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const peers = dirname(fileURLToPath(import.meta.url));
const lock = join(peers, 'package-lock.json');
const installed = join(peers, 'node_modules', '.package-lock.json');
const packages = (file) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')).packages ?? {});
// npm's hidden lockfile lists what is installed; it omits the root entry, so compare the rest.
const current = existsSync(installed) && (() => {
  const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  delete want[''];
  return JSON.stringify(want) === packages(installed);
})();
if (!current) {
  process.stderr.write('bench: installing bench/peers/package.json dependencies (PostGraphile, autocannon, pg)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peers, stdio: 'inherit' });
}
