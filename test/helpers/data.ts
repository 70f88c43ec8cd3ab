import type { Db } from '../../src/db/index.js';

/** Direct SQL fixtures for read tests (the write API has its own tests). */
export const MODEL = {
  priced: '10000000-0000-4000-8000-000000000001',
  gpt: '10000000-0000-4000-8000-000000000002',
  free: '10000000-0000-4000-8000-000000000003',
  unpriced: '10000000-0000-4000-8000-000000000004',
};

/** Inserts the seed's model configs only (tests build their own chats). */
export async function insertModels(db: Db): Promise<void> {
  await db.none(`INSERT INTO chat_model_configs (id, provider, model, display_name, is_default, context_limit,
      input_price, output_price, cache_read_price, cache_write_price) VALUES
    ($1, 'anthropic', 'claude', 'Claude', true, 200000, 3, 15, 0.3, 3.75),
    ($2, 'openai', 'gpt', 'GPT', false, 100000, 2, 8, 0.5, NULL),
    ($3, 'local', 'llama', 'Llama', false, 8000, 0, 0, 0, 0),
    ($4, 'x', 'exp', 'Experimental', false, 8000, NULL, NULL, NULL, NULL)
    ON CONFLICT DO NOTHING`, [MODEL.priced, MODEL.gpt, MODEL.free, MODEL.unpriced]);
}

export async function insertChat(
  db: Db,
  owner: string,
  fields: Partial<{ title: string; status: string; archived: boolean; labels: object; parent: string; model: string; updatedAt: Date; lastError: string }> = {},
): Promise<string> {
  const row = await db.one(
    `INSERT INTO chats (owner_id, title, status, archived, labels, parent_chat_id, root_chat_id, last_model_config_id, updated_at, last_error)
     VALUES ($(owner), $(title), $(status), $(archived), $(labels), $(parent), $(parent), $(model), $(updatedAt), $(lastError)) RETURNING id`,
    {
      owner,
      title: fields.title ?? 'chat',
      status: fields.status ?? 'waiting',
      archived: fields.archived ?? false,
      labels: JSON.stringify(fields.labels ?? {}),
      parent: fields.parent ?? null,
      model: fields.model ?? MODEL.priced,
      updatedAt: fields.updatedAt ?? new Date(),
      lastError: fields.lastError ?? null,
    },
  );
  return row.id;
}

export async function insertMessage(
  db: Db,
  chatId: string,
  fields: Partial<{
    role: string; text: string; content: unknown; version: number; visibility: string; compressed: boolean; deleted: boolean;
    input: number; output: number; cacheRead: number; cacheCreation: number; runtimeMs: number; cost: number | null; model: string; createdAt: Date;
  }> = {},
): Promise<string> {
  const content = fields.content ?? [{ type: 'text', text: fields.text ?? 'hello' }];
  const row = await db.one(
    `INSERT INTO chat_messages (chat_id, role, visibility, content, content_version, compressed, deleted, input_tokens, output_tokens,
       cache_read_tokens, cache_creation_tokens, runtime_ms, total_cost_micros, model_config_id, created_at)
     VALUES ($(chatId), $(role), $(visibility), $(content)::jsonb, $(version), $(compressed), $(deleted), $(input), $(output),
       $(cacheRead), $(cacheCreation), $(runtimeMs), $(cost), $(model), COALESCE($(createdAt)::timestamptz, now())) RETURNING id`,
    {
      chatId,
      role: fields.role ?? 'user',
      visibility: fields.visibility ?? 'both',
      content: JSON.stringify(content),
      version: fields.version ?? 1,
      compressed: fields.compressed ?? false,
      deleted: fields.deleted ?? false,
      input: fields.input ?? null,
      output: fields.output ?? null,
      cacheRead: fields.cacheRead ?? null,
      cacheCreation: fields.cacheCreation ?? null,
      runtimeMs: fields.runtimeMs ?? null,
      cost: fields.cost ?? null,
      model: fields.model ?? null,
      createdAt: fields.createdAt ?? null,
    },
  );
  return row.id;
}
