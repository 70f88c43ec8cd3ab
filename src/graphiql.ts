import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { Plugin } from 'graphql-yoga';

/** What the GraphiQL page is prefilled with (demo mode passes a token and a first query). */
export interface GraphiqlDefaults {
  headers?: Record<string, string>;
  defaultQuery?: string;
}

/**
 * The browser-side fetcher GraphiQL runs with. Yoga's built-in one opens its graphql-ws socket
 * with an empty connection_init, so the token in GraphiQL's Headers tab never reaches the
 * WebSocket and the server closes it with 4403. This one sends queries and mutations over HTTP
 * with the headers, and subscriptions over a graphql-ws socket whose connectionParams carry the
 * same headers (a new socket when the headers change); a closed socket becomes a readable error
 * in the result pane instead of a spinner.
 */
const FETCHER = String.raw`
window.chatgraphFetcher = function (endpoint) {
  var url = new URL(endpoint, location.href).toString();
  var wsUrl = url.replace(/^http/, 'ws');
  var client = null;
  var clientKey = null;
  function operationType(query, operationName) {
    var text = query.replace(/#[^\n]*/g, '');
    var re = /(?:^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g;
    var m, first = null;
    while ((m = re.exec(text))) {
      if (first === null) first = m[1];
      if (operationName && m[2] === operationName) return m[1];
    }
    return first || 'query';
  }
  function socket(headers) {
    var key = JSON.stringify(headers);
    if (client && key === clientKey) return client;
    if (client) client.dispose();
    clientKey = key;
    client = graphqlWs.createClient({ url: wsUrl, lazy: true, retryAttempts: 0, connectionParams: { headers: headers } });
    return client;
  }
  function describe(err) {
    if (err && typeof err.code === 'number') {
      if (err.code === 4403) return 'WebSocket closed with 4403 Forbidden: the Authorization header in the Headers tab is missing or not a valid token. Set {"Authorization": "Bearer <token>"} and run again.';
      return 'WebSocket closed (' + err.code + (err.reason ? ': ' + err.reason : '') + ')';
    }
    if (Array.isArray(err)) return err.map(function (e) { return e.message; }).join('; ');
    return (err && err.message) || String(err);
  }
  return function fetcher(params, opts) {
    var headers = (opts && opts.headers) || {};
    if (operationType(params.query || '', params.operationName) !== 'subscription') {
      return fetch(url, {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }, headers),
        body: JSON.stringify({ query: params.query, variables: params.variables, operationName: params.operationName }),
      }).then(function (res) { return res.json(); });
    }
    var it = socket(headers).iterate({ query: params.query, variables: params.variables, operationName: params.operationName });
    return (async function* () {
      try {
        for await (var result of it) yield result;
      } catch (err) {
        yield { errors: [{ message: describe(err) }] };
      }
    })();
  };
};
`;

/** A rendered page and its compressed forms, computed once per server. */
interface Page {
  etag: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
}

/** The GraphiQL HTML: yoga's self-contained page (no CDN) with graphql-ws and the fetcher above. */
export function graphiqlHtml(endpoint: string, defaults: GraphiqlDefaults = {}): string {
  const require = createRequire(import.meta.url);
  // The browser build of the same graphql-ws the server uses (not in the package's exports map).
  const graphqlWsUmd = readFileSync(join(dirname(require.resolve('graphql-ws/package.json')), 'umd', 'graphql-ws.min.js'), 'utf8');
  const opts = {
    title: 'chatgraph',
    endpoint,
    defaultQuery: defaults.defaultQuery,
    headers: defaults.headers ? JSON.stringify(defaults.headers, null, 2) : undefined,
    shouldPersistHeaders: false,
  };
  const html = renderGraphiQL(opts);
  const optsJson = JSON.stringify(opts);
  const at = html.lastIndexOf(optsJson);
  const firstScript = html.indexOf('<script>');
  // A yoga upgrade that changes the template must fail here (and in the tests), not serve a page without auth.
  if (at < 0 || firstScript < 0 || firstScript > at) throw new Error('unexpected GraphiQL template from @graphql-yoga/render-graphiql');
  const withFetcher = `${html.slice(0, at)}Object.assign(${optsJson}, { fetcher: window.chatgraphFetcher(${JSON.stringify(endpoint)}) })${html.slice(at + optsJson.length)}`;
  return `${withFetcher.slice(0, firstScript)}<script>${graphqlWsUmd}</script><script>${FETCHER}</script>${withFetcher.slice(firstScript)}`;
}

async function buildPage(endpoint: string, defaults: GraphiqlDefaults | undefined): Promise<Page> {
  const identity = Buffer.from(graphiqlHtml(endpoint, defaults));
  // ~9 MB of HTML: compressed once, off the event loop (zlib runs on the libuv pool).
  const [gz, br] = await Promise.all([
    promisify(gzip)(identity, { level: 6 }),
    promisify(brotliCompress)(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  return { etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`, identity, gzip: gz, br };
}

/** Picks brotli, then gzip, from an Accept-Encoding header (q=0 excludes). */
function pickEncoding(header: string | null): 'br' | 'gzip' | 'identity' {
  const accepted = new Set(
    (header ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => !q || Number(q.trim().replace(/^q=/, '')) > 0)
      .map(([name]) => name!.trim().toLowerCase()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return 'identity';
}

/**
 * Serves GraphiQL on GET `endpoint` for browsers (Accept: text/html): compressed (br or gzip,
 * built on first request), with an ETag so a reload is a 304. `private, no-cache`: the page may
 * carry a demo token, so shared caches must not keep it and browsers revalidate it.
 */
export function graphiqlPlugin(endpoint: string, defaults: GraphiqlDefaults | undefined): Plugin {
  let page: Promise<Page> | undefined;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' || url.pathname !== endpoint || !request.headers.get('accept')?.includes('text/html')) return;
      page ??= buildPage(endpoint, defaults);
      const { etag, ...bodies } = await page;
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', etag, 'cache-control': 'private, no-cache', vary: 'Accept-Encoding' };
      if (request.headers.get('if-none-match') === etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const encoding = pickEncoding(request.headers.get('accept-encoding'));
      if (encoding !== 'identity') headers['content-encoding'] = encoding;
      endResponse(new fetchAPI.Response(new Uint8Array(bodies[encoding]), { status: 200, headers }));
    },
  };
}
