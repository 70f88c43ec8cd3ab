import type { UserRow } from '../../db/repos/users.js';
import { loadUsers, viewer } from '../../resolvers/users.js';
import { builder } from '../builder.js';

/** A person who owns chats. Fields returning User may return the user id; the loader batches. */
export const User = builder.loadableNodeRef<UserRow, string>('User', {
  id: { resolve: (user) => user.id },
  load: (ids, ctx) => loadUsers(ids, ctx),
  sort: (user) => user.id,
});

User.implement({
  fields: (t) => ({
    username: t.exposeString('username'),
    name: t.exposeString('name'),
    avatarUrl: t.exposeString('avatar_url', { nullable: true }),
    isAdmin: t.exposeBoolean('is_admin'),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: User, description: 'The user the token belongs to.', resolve: (_root, args, ctx) => viewer(args, ctx) }),
);
