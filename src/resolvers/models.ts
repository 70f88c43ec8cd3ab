import type { Context } from '../context.js';
import type { DbTask, Queryable } from '../db/index.js';
import type { ModelConfigFields } from '../db/repos/modelConfigs.js';
import type { ModelConfigRow } from '../db/models.js';
import { InvalidModelConfigError, NotFoundError, ValidationError } from './errors.js';

/** Live model configs (disabled ones on request), default first. */
export function modelConfigs(args: { includeDisabled?: boolean | null }, ctx: Context): Promise<ModelConfigRow[]> {
  return ctx.db.modelConfigs.list(args.includeDisabled ?? false);
}

/** A config by id through the request's loader (deleted ones included: history names them). */
export function modelConfig(id: string | null, ctx: Context): Promise<ModelConfigRow | null> {
  return id ? ctx.loaders.modelConfig.load(id) : Promise.resolve(null);
}

/** A config a new turn may use: exists, not deleted, enabled. */
function usable(config: ModelConfigRow | null): config is ModelConfigRow {
  return config !== null && !config.deleted && config.enabled;
}

/**
 * Model resolution rule: explicit id (unknown, deleted or disabled → InvalidModelConfigError) → the chat's
 * last model if still usable → the default → InvalidModelConfigError("no default model config").
 */
export async function resolveModelConfig(t: Queryable, explicitId: string | null, chatLastId: string | null): Promise<ModelConfigRow> {
  if (explicitId !== null) {
    const config: ModelConfigRow | null = await t.modelConfigs.byId(explicitId);
    if (config === null || config.deleted || !config.enabled) {
      const why = config === null ? 'does not exist' : config.deleted ? 'was deleted' : 'is disabled';
      throw new InvalidModelConfigError(`Model config ${why}`, explicitId);
    }
    return config;
  }
  return fallbackModelConfig(t, chatLastId);
}

/** The promote rule's fallback for a stored model that no longer exists: chat's last → default. */
export async function fallbackModelConfig(t: Queryable, ...candidates: Array<string | null>): Promise<ModelConfigRow> {
  for (const id of candidates) {
    if (id === null) continue;
    const config = await t.modelConfigs.byId(id);
    if (usable(config)) return config;
  }
  const fallback = await t.modelConfigs.defaultConfig();
  if (!fallback) throw new InvalidModelConfigError('No default model config is set; pass modelConfigId');
  return fallback;
}

/** Model config fields as the admin mutations receive them (prices as decimal strings). */
export interface ModelConfigInput {
  provider?: string | null;
  model?: string | null;
  displayName?: string | null;
  enabled?: boolean | null;
  isDefault?: boolean | null;
  contextLimit?: bigint | null;
  compressionThreshold?: number | null;
  inputPricePerMillionTokens?: string | null;
  outputPricePerMillionTokens?: string | null;
  cacheReadPricePerMillionTokens?: string | null;
  cacheWritePricePerMillionTokens?: string | null;
}

const MAX_NAME_LENGTH = 200;
/** A non-negative decimal (USD per 1M tokens) with bounded digits; no sign, exponent or spaces. */
const PRICE_RE = /^\d{1,12}(\.\d{1,12})?$/;

const PRICES = [
  ['inputPricePerMillionTokens', 'input_price'],
  ['outputPricePerMillionTokens', 'output_price'],
  ['cacheReadPricePerMillionTokens', 'cache_read_price'],
  ['cacheWritePricePerMillionTokens', 'cache_write_price'],
] as const;

function name(value: string, field: string): string {
  const v = value.trim();
  if (v === '' || v.length > MAX_NAME_LENGTH) throw new ValidationError(`${field} must be 1-${MAX_NAME_LENGTH} characters`, field);
  return v;
}

/**
 * The columns named in `input`, validated: absent fields are left out (update), explicit null
 * prices are kept (null = unpriced).
 */
function configFields(input: ModelConfigInput): Partial<ModelConfigFields> {
  const set: Partial<ModelConfigFields> = {};
  if (input.provider != null) set.provider = name(input.provider, 'provider');
  if (input.model != null) set.model = name(input.model, 'model');
  if (input.displayName != null) set.display_name = name(input.displayName, 'displayName');
  if (input.enabled != null) set.enabled = input.enabled;
  if (input.isDefault != null) set.is_default = input.isDefault;
  if (input.contextLimit != null) {
    if (input.contextLimit <= 0n) throw new ValidationError('contextLimit must be positive', 'contextLimit');
    set.context_limit = input.contextLimit.toString();
  }
  if (input.compressionThreshold != null) {
    const v = input.compressionThreshold;
    if (!Number.isInteger(v) || v < 0 || v > 100) throw new ValidationError('compressionThreshold must be 0..100 (percent)', 'compressionThreshold');
    set.compression_threshold = v;
  }
  for (const [field, column] of PRICES) {
    const price = input[field];
    if (price === undefined) continue;
    if (price !== null && !PRICE_RE.test(price)) {
      throw new ValidationError(`${field} must be a non-negative decimal such as "3" or "0.375" (USD per 1M tokens), or null`, field);
    }
    set[column] = price;
  }
  return set;
}

/** A transaction that makes `id` the default: only after the lock may the old default lose its flag. */
async function takeDefault(t: DbTask, keepId: string | null): Promise<void> {
  await t.modelConfigs.lockDefault();
  await t.modelConfigs.clearDefault(keepId);
}

function assertUsableDefault<T extends Pick<ModelConfigRow, 'enabled'>>(config: T): T {
  if (!config.enabled) throw new ValidationError('A disabled model config cannot become the default; enable it first', 'isDefault');
  return config;
}

function rememberConfig(ctx: Context, config: ModelConfigRow): { modelConfig: ModelConfigRow } {
  ctx.loaders.modelConfig.clear(config.id).prime(config.id, config);
  return { modelConfig: config };
}

/** Admin: adds a model config; isDefault moves the single default to it in the same transaction. */
export async function createModelConfig(input: ModelConfigInput, ctx: Context): Promise<{ modelConfig: ModelConfigRow }> {
  return rememberConfig(ctx, await insertModelConfig(ctx.db, input));
}

/** Validates and inserts a model config (the GraphQL mutation and `chatgraph model create` share it). */
export async function insertModelConfig(db: Context['db'], input: ModelConfigInput): Promise<ModelConfigRow> {
  const set = configFields(input);
  if (!set.provider || !set.model || !set.context_limit) throw new ValidationError('provider, model and contextLimit are required', 'input');
  const fields: ModelConfigFields = {
    provider: set.provider,
    model: set.model,
    display_name: set.display_name ?? set.model,
    enabled: set.enabled ?? true,
    is_default: set.is_default ?? false,
    context_limit: set.context_limit,
    compression_threshold: set.compression_threshold ?? 70,
    input_price: set.input_price ?? null,
    output_price: set.output_price ?? null,
    cache_read_price: set.cache_read_price ?? null,
    cache_write_price: set.cache_write_price ?? null,
  };
  if (fields.is_default) assertUsableDefault(fields);
  return db.tx('createModelConfig', async (t) => {
    if (fields.is_default) await takeDefault(t, null);
    return t.modelConfigs.create(fields);
  });
}

/**
 * Admin: changes the named fields of a live config. Disabling the default is allowed (sends
 * without a model then fail with "no default"); making a disabled config the default is not.
 */
export async function updateModelConfig(input: ModelConfigInput & { id: string }, ctx: Context): Promise<{ modelConfig: ModelConfigRow }> {
  const set = configFields(input);
  if (Object.keys(set).length === 0) throw new ValidationError('Nothing to update: pass at least one field besides id', 'input');
  const config = await ctx.db.tx('updateModelConfig', async (t) => {
    if (set.is_default) await takeDefault(t, input.id);
    const updated = await t.modelConfigs.update(input.id, set);
    if (!updated) throw new NotFoundError('Model config not found', input.id);
    return set.is_default ? assertUsableDefault(updated) : updated;
  });
  return rememberConfig(ctx, config);
}

/** Admin: soft-deletes a config (history still names it); a deleted default leaves no default. */
export async function deleteModelConfig(input: { id: string }, ctx: Context): Promise<{ modelConfig: ModelConfigRow }> {
  const deleted = await ctx.db.modelConfigs.softDelete(input.id);
  if (!deleted) throw new NotFoundError('Model config not found', input.id);
  return rememberConfig(ctx, deleted);
}

/** Admin: atomically makes `id` the single live default. */
export async function setDefaultModelConfig(input: { id: string }, ctx: Context): Promise<{ modelConfig: ModelConfigRow }> {
  return updateModelConfig({ id: input.id, isDefault: true }, ctx);
}
