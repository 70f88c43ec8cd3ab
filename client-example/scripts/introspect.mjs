// Writes src/introspection.json from ../schema.graphql: graphcache's schema (union members for
// fragment matching, nullability for partial results). Run by `npm run generate`.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospectionQuery } from '@urql/introspection';

const root = new URL('..', import.meta.url);
const schema = buildSchema(readFileSync(new URL('../schema.graphql', root), 'utf8'));
const minified = minifyIntrospectionQuery(introspectionFromSchema(schema), { includeScalars: false, includeEnums: false, includeInputs: false });
writeFileSync(new URL('src/introspection.json', root), `${JSON.stringify(minified)}\n`);
