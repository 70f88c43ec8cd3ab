import type { ModelConfigRow } from '../../db/models.js';
import { modelConfig, modelConfigs } from '../../resolvers/models.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';
import { ModelPricing } from './ModelPricing.js';

/** A model a chat can run on, with pricing. */
export const ChatModelConfig = builder.objectRef<ModelConfigRow>('ChatModelConfig');

builder.node(ChatModelConfig, {
  id: { resolve: (config) => config.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.modelConfig.load(id))),
  fields: (t) => ({
    provider: t.exposeString('provider'),
    model: t.exposeString('model'),
    displayName: t.exposeString('display_name'),
    enabled: t.exposeBoolean('enabled'),
    isDefault: t.exposeBoolean('is_default'),
    deleted: t.exposeBoolean('deleted', { description: 'Soft-deleted: kept because history names it.' }),
    contextLimit: t.field({ type: 'BigInt', resolve: (config) => config.context_limit }),
    compressionThreshold: t.exposeInt('compression_threshold', { description: 'Percent of the context limit at which history is compressed.' }),
    pricing: t.field({ type: ModelPricing, resolve: (config) => config }),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
    updatedAt: t.expose('updated_at', { type: 'DateTime' }),
  }),
});

builder.queryField('modelConfigs', (t) =>
  t.field({
    type: [ChatModelConfig],
    description: 'Model configs to choose from, default first.',
    args: { includeDisabled: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => modelConfigs(args, ctx),
  }),
);

builder.objectField(Chat, 'lastModelConfig', (t) =>
  t.field({
    type: ChatModelConfig,
    description: 'The model of the latest turn.',
    resolve: async (chat, _args, ctx) => (await modelConfig(chat.last_model_config_id, ctx))!,
  }),
);
