// Installs the bench's own dependencies (bench/package.json: PostGraphile, autocannon, pg) into
// bench/node_modules, only when they are missing or bench/package-lock.json changed since, so the
// root `npm ci` of users and CI never downloads them. Run by `npm run bench`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = dirname(fileURLToPath(import.meta.url));
const lock = join(bench, 'package-lock.json');
const installed = join(bench, 'node_modules', '.package-lock.json');
const packages = (file) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')).packages ?? {});
// npm's hidden lockfile lists what is installed; it omits the root entry, so compare the rest.
const current = existsSync(installed) && (() => {
  const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  delete want[''];
  return JSON.stringify(want) === packages(installed);
})();
if (!current) {
  process.stderr.write('bench: installing bench/package.json dependencies (PostGraphile, autocannon, pg)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: bench, stdio: 'inherit' });
}
