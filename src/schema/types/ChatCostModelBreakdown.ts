import type { ModelCostRow } from '../../db/repos/costs.js';
import { modelConfig } from '../../resolvers/models.js';
import { builder } from '../builder.js';
import { ChatCostTotals } from './ChatCostTotals.js';
import { ChatModelConfig } from './ChatModelConfig.js';

/** One model's share of a cost summary; the line without a model config has null id and names. */
export const ChatCostModelBreakdown = builder.objectRef<ModelCostRow>('ChatCostModelBreakdown').implement({
  description: "One model config's spend in a cost summary (messages without a model share one line with null id).",
  fields: (t) => ({
    modelConfigId: t.globalID({
      nullable: true,
      resolve: (row) => (row.model_config_id ? { type: 'ChatModelConfig', id: row.model_config_id } : null),
    }),
    modelConfig: t.field({
      type: ChatModelConfig,
      nullable: true,
      description: 'The config (deleted ones included); null for messages without one.',
      resolve: (row, _args, ctx) => modelConfig(row.model_config_id, ctx),
    }),
    displayName: t.exposeString('display_name', { nullable: true }),
    provider: t.exposeString('provider', { nullable: true }),
    model: t.exposeString('model', { nullable: true }),
    totals: t.field({ type: ChatCostTotals, resolve: (row) => row }),
    messageCount: t.exposeInt('message_count', { description: 'Assistant messages counted (priced, unpriced and usage-free).' }),
  }),
});
