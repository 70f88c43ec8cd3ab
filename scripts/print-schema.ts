// Writes schema.graphql from the code (sorted). `npm run schema`; test/schema.test.ts fails on drift.
import { writeFileSync } from 'node:fs';
import { printSortedSchema } from '../src/schema/index.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSortedSchema());
process.stdout.write('schema.graphql written\n');
