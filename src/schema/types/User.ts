import type { UserRow } from '../../db/models.js';
import { viewer } from '../../resolvers/users.js';
import { builder } from '../builder.js';

/** A person who owns chats. */
export const User = builder.objectRef<UserRow>('User');

builder.node(User, {
  id: { resolve: (user) => user.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.user.load(id))),
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
