// npm run build: compiles src/ to dist/ (tsc) and copies what is read at run time from beside
// the code (every .sql file). Migrations stay in migrations/ at the package root, as in development.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1); // tsc printed the errors
// Every .sql file under src/ (QueryFiles are loaded relative to the module that uses them).
for (const file of readdirSync(join(root, 'src'), { recursive: true })) {
  if (String(file).endsWith('.sql')) cpSync(join(root, 'src', String(file)), join(root, 'dist', String(file)));
}
