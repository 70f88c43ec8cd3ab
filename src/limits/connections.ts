/**
 * Live channels per user: open graphql-ws sockets plus SSE subscription streams, capped at
 * MAX_CONNECTIONS_PER_USER so one user (or one leaked token) cannot hold the process's sockets.
 * Subscriptions per socket are capped separately (MAX_SUBSCRIPTIONS_PER_CONNECTION).
 */
export class UserConnections {
  private readonly open = new Map<string, number>();
  constructor(readonly limit: number) {}

  /** Takes a slot for `userId`; false when the user already holds `limit`. */
  acquire(userId: string): boolean {
    const n = this.open.get(userId) ?? 0;
    if (n >= this.limit) return false;
    this.open.set(userId, n + 1);
    return true;
  }

  release(userId: string): void {
    const n = (this.open.get(userId) ?? 0) - 1;
    if (n <= 0) this.open.delete(userId);
    else this.open.set(userId, n);
  }

  count(userId: string): number {
    return this.open.get(userId) ?? 0;
  }
}
