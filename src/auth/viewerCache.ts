interface Entry<V> {
  viewer: V;
  /** When this entry stops being trusted (ms since epoch). */
  freshUntil: number;
  /** The token's own expiry, checked on every hit. */
  tokenExpiresAt: number | null;
  lastUsedAt: number;
}

/**
 * Viewers of recently seen tokens, per process: a hit skips the token lookup, a statement per
 * request otherwise. Entries are trusted for `ttlMs`, so a revocation (or a change of the user's
 * admin flag) made anywhere takes effect on this process within `ttlMs`; a token's expiry is
 * checked on every hit. Only successful lookups are kept, and at most `maxEntries` of them
 * (oldest dropped first), so unknown tokens cannot grow it. Generic in the viewer type, so that
 * the cache does not import the authentication module that uses it.
 */
export class ViewerCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached viewer of `token`, or undefined when absent, stale or past the token's expiry. */
  get(token: string, now = Date.now()): Entry<V> | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.freshUntil <= now || (entry.tokenExpiresAt !== null && entry.tokenExpiresAt <= now)) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, viewer: V, tokenExpiresAt: Date | null, lastUsedAt: number, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, { viewer, freshUntil: now + this.ttlMs, tokenExpiresAt: tokenExpiresAt?.getTime() ?? null, lastUsedAt });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
