// Installs client-example's own dependencies (urql, Vite, playwright-core, …) for the root test
// command, so the root `npm ci` stays lean: `npm ci --prefix client-example` runs when its
// node_modules are missing or older than its lock file; otherwise this does nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../client-example/', import.meta.url));
const lock = `${dir}package-lock.json`;
const installed = `${dir}node_modules/.package-lock.json`;

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write('client-example: installing its dependencies (npm ci --prefix client-example)\n');
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
