import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../resolvers/errors.js';
import { isRowId, isUuid } from '../resolvers/ids.js';

/** Which raw id shape each node type uses. */
const SHAPES: Record<string, (raw: string) => boolean> = {
  User: isUuid,
  Chat: isUuid,
  ChatModelConfig: isUuid,
  ChatMessage: isRowId,
  ChatQueuedMessage: isRowId,
};

/**
 * Decodes a global id of `typename`; anything else (not base64, another type, a malformed raw
 * id) is a ValidationError naming the argument, so it never reaches SQL.
 */
export function decodeId(globalId: string, typename: keyof typeof SHAPES, field: string): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw new ValidationError(`"${field}" is not a valid ID`, field);
  }
  if (decoded.typename !== typename || !SHAPES[typename]!(decoded.id)) {
    throw new ValidationError(`"${field}" must be the ID of a ${typename}`, field);
  }
  return decoded.id;
}

/** Like decodeId, but null for anything that is not an id of `typename` (for routing, never for input errors). */
export function tryDecodeId(globalId: string, typename: keyof typeof SHAPES): string | null {
  try {
    return decodeId(globalId, typename, 'id');
  } catch {
    return null;
  }
}

export { encodeGlobalID };
