import type { ModelConfigRow } from '../../db/models.js';
import { builder } from '../builder.js';

/** USD per 1M tokens as exact decimal strings; null = unpriced, "0" = free. */
export const ModelPricing = builder.objectRef<ModelConfigRow>('ModelPricing').implement({
  fields: (t) => ({
    inputPricePerMillionTokens: t.exposeString('input_price', { nullable: true }),
    outputPricePerMillionTokens: t.exposeString('output_price', { nullable: true }),
    cacheReadPricePerMillionTokens: t.exposeString('cache_read_price', { nullable: true }),
    cacheWritePricePerMillionTokens: t.exposeString('cache_write_price', { nullable: true }),
  }),
});
