import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tokenStateAt } from '../../domain/access/account-rules.js';
import type { Principal } from '../../domain/access/roles.js';
import type { TokenRecord } from '../../ports/access-store.js';
import type { DashboardSessions } from '../../workflows/dashboard-sessions.js';
import { createAccount } from '../../workflows/create-account.js';
import type { AccountActor, AccountAdministration } from '../../workflows/manage-accounts.js';
import {
  createUserRequestSchema,
  issuedTokenSchema,
  issueTokenRequestSchema,
  newTokenSchema,
  rotatedTokenSchema,
  rotateTokenRequestSchema,
  updateUserRequestSchema,
  updatedUserSchema,
  userListSchema,
  userTokensSchema,
  type TokenBody,
} from '../contract.js';
import { jsonBody } from '../route-body.js';
import { principalOf } from '../route-config.js';

/** What the account routes use, and nothing else. */
export interface AccessRouteOptions {
  /** Account and token administration, audited (workflows/manage-accounts.ts). */
  readonly accounts: AccountAdministration;
  /** A new user's first password (workflows/dashboard-sessions.ts; audited as a password change by the administrator). */
  readonly setPassword: DashboardSessions['setPassword'];
}

const userIdParams = z.object({ userId: z.string().regex(/^u-[0-9a-f-]{36}$/, 'a user id such as u-<uuid>') });
const tokenParams = userIdParams.extend({ tokenId: z.string().regex(/^t-[0-9a-f-]{36}$/, 'a token id such as t-<uuid>') });

/** A token as listed, with its state at `nowMs`. */
function tokenBody(token: TokenRecord, nowMs: number): TokenBody {
  const { userId: _userId, ...rest } = token;
  return { ...rest, state: tokenStateAt(token, nowMs) };
}

/**
 * Accounts and their API tokens (administrators, `users:manage`). Secrets appear once, in the answer
 * that issues them; every change is audited through workflows/manage-accounts.ts.
 */
export const accessRoutes: FastifyPluginAsync<AccessRouteOptions> = (app, { accounts, setPassword }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/users', { config: { access: 'users:manage' }, schema: { response: { 200: userListSchema } } }, async () => ({
    users: [...(await accounts.listUsers())],
  }));

  // Creates a user with a first API token, shown once in the response (only its hash is kept), and optionally a password (workflows/create-account.ts).
  api.post(
    '/api/users',
    // A 64-character name, a role and a ≤ 1024-character password: ≤ 6.6 kB even with every character \u-escaped.
    { config: { access: 'users:manage', body: jsonBody(8 * 1024) }, schema: { body: createUserRequestSchema, response: { 201: issuedTokenSchema } } },
    async (request, reply) => {
      const { user, token } = await createAccount({ accounts, setPassword }, principalOf(request), request.body, request.ip);
      return reply.code(201).send({ user, tokenId: token.tokenId, token: token.secret, expiresAt: token.expiresAt });
    },
  );

  // Role and disabled state. Disabling ends the user's sessions and stops their tokens at once.
  api.patch(
    '/api/users/:userId',
    // A role name and a boolean: under 100 bytes; 1 KiB leaves room for whitespace.
    {
      config: { access: 'users:manage', body: jsonBody(1024) },
      schema: { params: userIdParams, body: updateUserRequestSchema, response: { 200: updatedUserSchema } },
    },
    async (request) => {
      const change = {
        ...(request.body.role === undefined ? {} : { role: request.body.role }),
        ...(request.body.disabled === undefined ? {} : { disabled: request.body.disabled }),
      };
      return { user: await accounts.updateUser(actorOf(principalOf(request)), request.params.userId, change) };
    },
  );

  api.get(
    '/api/users/:userId/tokens',
    { config: { access: 'users:manage' }, schema: { params: userIdParams, response: { 200: userTokensSchema } } },
    async (request) => {
      const { user, tokens } = await accounts.listTokens(request.params.userId);
      const now = Date.now();
      return { user, tokens: tokens.map((t) => tokenBody(t, now)) };
    },
  );

  api.post(
    '/api/users/:userId/tokens',
    // A ≤ 64-character label and a number: ≤ 450 bytes even \u-escaped.
    {
      config: { access: 'users:manage', body: jsonBody(1024) },
      schema: { params: userIdParams, body: issueTokenRequestSchema, response: { 201: newTokenSchema } },
    },
    async (request, reply) => {
      const issued = await accounts.issueToken(actorOf(principalOf(request)), request.params.userId, {
        label: request.body.label,
        ...(request.body.expiresInDays === undefined ? {} : { expiresInDays: request.body.expiresInDays }),
      });
      return reply.code(201).send({ tokenId: issued.tokenId, token: issued.secret, expiresAt: issued.expiresAt });
    },
  );

  api.delete('/api/users/:userId/tokens/:tokenId', { config: { access: 'users:manage' }, schema: { params: tokenParams } }, async (request, reply) => {
    await accounts.revokeToken(actorOf(principalOf(request)), request.params.userId, request.params.tokenId);
    return reply.code(204).send();
  });

  api.post(
    '/api/users/:userId/tokens/:tokenId/rotate',
    // A ≤ 64-character label and a number, as issuing.
    {
      config: { access: 'users:manage', body: jsonBody(1024) },
      schema: { params: tokenParams, body: rotateTokenRequestSchema.nullish(), response: { 201: rotatedTokenSchema } },
    },
    async (request, reply) => {
      const body = request.body ?? { overlapSeconds: 0 };
      const { issued, previousEndsAt } = await accounts.rotateToken(actorOf(principalOf(request)), request.params.userId, request.params.tokenId, {
        overlapSeconds: body.overlapSeconds,
        ...(body.label === undefined ? {} : { label: body.label }),
      });
      return reply
        .code(201)
        .send({ tokenId: issued.tokenId, token: issued.secret, expiresAt: issued.expiresAt, previousTokenId: request.params.tokenId, previousEndsAt });
    },
  );
  return Promise.resolve();
};

/** The signed-in administrator as the actor of a change. */
function actorOf(principal: Principal): AccountActor {
  return { kind: 'user', principal };
}
