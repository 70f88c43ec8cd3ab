import type { IDatabase, IMain } from 'pg-promise';
import { preparedText, sql } from '../sql.js';
import type { ApiTokenRow, TokenWithUser } from '../models.js';

const queries = {
  create: sql('api_tokens/create.sql'),
  findWithUser: sql('api_tokens/find_with_user.sql'),
  touch: sql('api_tokens/touch.sql'),
};
// Every request runs this lookup: prepared, it is planned once per connection.
const findWithUserText = preparedText(queries.findWithUser, ['id']);

/** SQL for the api_tokens table. */
export class ApiTokensRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  create(input: { id: string; userId: string; name: string; secretHash: Buffer; scopes: string[]; expiresAt: Date | null }): Promise<ApiTokenRow> {
    return this.db.one(queries.create, input);
  }

  /** The token and its user, whatever its state (the caller checks expiry and revocation). */
  findWithUser(id: string): Promise<TokenWithUser | null> {
    return this.db.oneOrNone({ name: 'api-tokens-find-with-user', text: findWithUserText, values: [id] });
  }

  /** Records use at most once a minute per token, so hot tokens do not rewrite their row per request. */
  touch(id: string): Promise<null> {
    return this.db.none(queries.touch, { id });
  }

  listForUser(userId: string): Promise<ApiTokenRow[]> {
    return this.db.any('SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id', [userId]);
  }

  /** Marks a token revoked; returns false when no live token has that id. */
  async revoke(id: string): Promise<boolean> {
    const r = await this.db.result('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    return r.rowCount === 1;
  }
}
