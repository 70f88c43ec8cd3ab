import type { Context } from '../context.js';
import type { ModelConfigRow } from '../db/repos/modelConfigs.js';

/** Live model configs (disabled ones on request), default first. */
export function modelConfigs(args: { includeDisabled?: boolean | null }, ctx: Context): Promise<ModelConfigRow[]> {
  return ctx.db.modelConfigs.list(args.includeDisabled ?? false);
}

/** A config by id through the request's loader (deleted ones included: history names them). */
export function modelConfig(id: string | null, ctx: Context): Promise<ModelConfigRow | null> {
  return id ? ctx.loaders.modelConfig.load(id) : Promise.resolve(null);
}
