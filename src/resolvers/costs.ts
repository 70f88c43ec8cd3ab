import type { Context } from '../context.js';
import type { CostTotalsRow, UserRow } from '../db/models.js';
import type { ChatCostRow, ModelCostRow, UserCostKey, UserCostRow } from '../db/repos/costs.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { decodeCursor, encodeCursor, pageRequest, toConnection, type PageResult } from './pagination.js';

/** Default window when no startDate is given: the 30 days before the end. */
export const DEFAULT_RANGE_DAYS = 30;
/**
 * Longest range one request may aggregate (a leap year). A summary scans every message of the
 * range, so the cap bounds the work a single query can ask for; longer reports add up ranges.
 */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

/** Arguments shared by costSummary and costUsers. */
export interface RangeArgs {
  startDate?: Date | null;
  endDate?: Date | null;
}

/** A validated half-open range [start, end). */
export interface CostRange {
  start: Date;
  end: Date;
}

/** What ChatCostSummary resolves from: the range, the user and the totals fields flattened in. */
export interface CostSummary extends CostTotalsRow, CostRange {
  user: UserRow;
  totals: CostTotalsRow;
  byModel: ModelCostRow[];
  byChat: ChatCostRow[];
}

/**
 * Applies the defaults (end = now, start = end - 30 days) and the rules: end before start and
 * ranges above MAX_RANGE_DAYS are ValidationErrors; start = end is a valid empty range.
 */
export function costRange(args: RangeArgs, now = new Date()): CostRange {
  const end = args.endDate ?? now;
  const start = args.startDate ?? new Date(end.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (end.getTime() < start.getTime()) throw new ValidationError('"endDate" must not be before "startDate"', 'endDate');
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new ValidationError(`The range may span at most ${MAX_RANGE_DAYS} days`, 'startDate');
  }
  return { start, end };
}

/**
 * A user's spend in a range (cost analytics, docs/costs.md): the viewer's own by default; another user's only for
 * admins (others get ForbiddenError before the id is even looked up, so existence does not leak).
 * Totals, byModel and byChat come from one statement.
 */
export async function costSummary(args: RangeArgs & { userId?: string | null }, ctx: Context): Promise<CostSummary> {
  const viewer = ctx.viewer!;
  const range = costRange(args);
  let user = viewer.user;
  if (args.userId != null && args.userId !== viewer.user.id) {
    if (!viewer.isAdmin) throw new ForbiddenError("Only admins may read another user's costs");
    const other = await ctx.loaders.user.load(args.userId);
    if (!other) throw new NotFoundError('No such user', args.userId);
    user = other;
  }
  const { totals, byModel, byChat } = await ctx.db.costs.summary(user.id, range.start, range.end);
  return { ...totals, ...range, user, totals, byModel, byChat };
}

const USER_CURSOR_KIND = 'costuser';
const MAX_SEARCH_LENGTH = 100;
const USERNAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The opaque cursor of a rollup line: its sort key (exact cost, username). */
export function userCostCursor(row: UserCostRow): string {
  return encodeCursor(USER_CURSOR_KIND, `${row.cost}:${row.user.username}`);
}

function parseUserCostCursor(cursor: string, arg: string): UserCostKey {
  const [cost, username, extra] = decodeCursor(USER_CURSOR_KIND, cursor, arg).split(':');
  if (!cost || !/^\d{1,30}$/.test(cost) || !username || !USERNAME_RE.test(username) || extra !== undefined) {
    throw new ValidationError(`Invalid cursor in "${arg}": not a cursor of this list`, arg);
  }
  return { cost, username };
}

export interface CostUsersArgs extends RangeArgs {
  username?: string | null;
  first?: number | null;
  after?: string | null;
}

/**
 * Admin rollup (the field's authScopes demand an admin): spend per user with assistant messages
 * in the range, cost descending then username, keyset-paginated; one statement per page, which
 * also primes the user loader and counts the filter's total.
 */
export async function costUsers(args: CostUsersArgs, ctx: Context): Promise<PageResult<UserCostRow> & { totalCount: number }> {
  const range = costRange(args);
  const request = pageRequest({ first: args.first, after: args.after }, parseUserCostCursor);
  const search = args.username || null; // taken literally: '' means no filter, spaces count
  if (search !== null && search.length > MAX_SEARCH_LENGTH) {
    throw new ValidationError(`"username" may be at most ${MAX_SEARCH_LENGTH} characters`, 'username');
  }
  const page = await ctx.db.costs.users({ ...range, search }, request.cursor, request.limit + 1);
  for (const row of page.rows) ctx.loaders.user.prime(row.user.id, row.user);
  return { ...toConnection(request, page.rows, userCostCursor), totalCount: page.totalCount };
}
