import type { ModelConfigRow } from '../../db/models.js';
import * as models from '../../resolvers/models.js';
import { builder, type SchemaTypes } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { ChatModelConfig } from './ChatModelConfig.js';

/** The model config an admin mutation wrote. */
export const ChatModelConfigPayload = builder.objectRef<{ modelConfig: ModelConfigRow }>('ChatModelConfigPayload').implement({
  fields: (t) => ({ modelConfig: t.field({ type: ChatModelConfig, resolve: (p) => p.modelConfig }) }),
});

const PRICE_DESCRIPTION = 'USD per 1M tokens as a decimal string ("3", "0.375"); null = unpriced, "0" = free.';

/** Fields that create and update share, all optional (defaults apply on create only). */
const sharedFields = (t: PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, 'InputObject'>) => ({
  displayName: t.string({ description: 'Create default: the model name.' }),
  enabled: t.boolean({
    description: 'Create default true. Disabling the default is allowed: sends without a model then fail until a new default is set.',
  }),
  isDefault: t.boolean({ description: 'true makes it the single default (the previous default loses the flag). Create default false.' }),
  compressionThreshold: t.int({ description: 'Percent of the context limit, 0..100; create default 70.' }),
  inputPricePerMillionTokens: t.string({ description: PRICE_DESCRIPTION }),
  outputPricePerMillionTokens: t.string({ description: PRICE_DESCRIPTION }),
  cacheReadPricePerMillionTokens: t.string({ description: PRICE_DESCRIPTION }),
  cacheWritePricePerMillionTokens: t.string({ description: PRICE_DESCRIPTION }),
});

const CreateModelConfigInput = builder.inputType('CreateModelConfigInput', {
  fields: (t) => ({
    provider: t.string({ required: true }),
    model: t.string({ required: true }),
    contextLimit: t.field({ type: 'BigInt', required: true }),
    ...sharedFields(t),
  }),
});

const UpdateModelConfigInput = builder.inputType('UpdateModelConfigInput', {
  description: 'Only the fields given change; a price given as null becomes unpriced.',
  fields: (t) => ({
    id: t.id({ required: true }),
    provider: t.string(),
    model: t.string(),
    contextLimit: t.field({ type: 'BigInt' }),
    ...sharedFields(t),
  }),
});

const DeleteModelConfigInput = builder.inputType('DeleteModelConfigInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const SetDefaultModelConfigInput = builder.inputType('SetDefaultModelConfigInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const configId = (input: { id: string | number }) => decodeId(String(input.id), 'ChatModelConfig', 'id');

builder.mutationFields((t) => ({
  createModelConfig: t.field({
    type: ChatModelConfigPayload,
    description: 'Admin: add a model config.',
    authScopes: { admin: true },
    errors: mutationErrors('createModelConfig'),
    args: { input: t.arg({ type: CreateModelConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) => models.createModelConfig(input, ctx),
  }),
  updateModelConfig: t.field({
    type: ChatModelConfigPayload,
    description: 'Admin: change a live model config.',
    authScopes: { admin: true },
    errors: mutationErrors('updateModelConfig'),
    args: { input: t.arg({ type: UpdateModelConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) => models.updateModelConfig({ ...input, id: configId(input) }, ctx),
  }),
  deleteModelConfig: t.field({
    type: ChatModelConfigPayload,
    description: 'Admin: soft-delete a model config (messages keep naming it; a deleted default leaves no default).',
    authScopes: { admin: true },
    errors: mutationErrors('deleteModelConfig'),
    args: { input: t.arg({ type: DeleteModelConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) => models.deleteModelConfig({ id: configId(input) }, ctx),
  }),
  setDefaultModelConfig: t.field({
    type: ChatModelConfigPayload,
    description: 'Admin: make a model config the single default, atomically.',
    authScopes: { admin: true },
    errors: mutationErrors('setDefaultModelConfig'),
    args: { input: t.arg({ type: SetDefaultModelConfigInput, required: true }) },
    resolve: (_root, { input }, ctx) => models.setDefaultModelConfig({ id: configId(input) }, ctx),
  }),
}));
