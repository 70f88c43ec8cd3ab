import { describe, expect, it } from 'vitest';
import type { Viewer } from '../src/auth/viewer.js';
import { ViewerCache } from '../src/auth/viewerCache.js';

const viewer = (id: string): Viewer => ({
  user: { id, username: id } as Viewer['user'],
  tokenId: id,
  scopes: new Set(['user']),
  isAdmin: false,
  isWorker: false,
});

describe('ViewerCache', () => {
  it('trusts an entry for its TTL only', () => {
    const cache = new ViewerCache<Viewer>(1000);
    cache.set('t', viewer('a'), null, 0, 10_000);
    expect(cache.get('t', 10_999)?.viewer.tokenId).toBe('a');
    expect(cache.get('t', 11_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never outlives the token's own expiry", () => {
    const cache = new ViewerCache<Viewer>(60_000);
    cache.set('t', viewer('a'), new Date(10_500), 0, 10_000);
    expect(cache.get('t', 10_499)).toBeDefined();
    expect(cache.get('t', 10_500)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = new ViewerCache<Viewer>(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, viewer(id), null, 0, 1);
    expect(cache.size).toBe(3);
    expect(cache.get('a', 2)).toBeUndefined();
    expect(cache.get('d', 2)?.viewer.tokenId).toBe('d');
  });

  it('keeps nothing with a TTL of 0', () => {
    const cache = new ViewerCache<Viewer>(0);
    cache.set('t', viewer('a'), null, 0, 1);
    expect(cache.get('t', 1)).toBeUndefined();
  });
});
