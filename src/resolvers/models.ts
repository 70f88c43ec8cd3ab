import type { Context } from '../context.js';
import type { Queryable } from '../db/index.js';
import type { ModelConfigRow } from '../db/repos/modelConfigs.js';
import { InvalidModelConfigError } from './errors.js';

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
 * Rule 3: explicit id (unknown, deleted or disabled → InvalidModelConfigError) → the chat's
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

/** Rule 7's fallback for a stored model that no longer exists: chat's last → default. */
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
