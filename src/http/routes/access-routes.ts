import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createUserRequestSchema, issuedTokenSchema, userSchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';
import { jsonBody } from '../route-body.js';

export function registerAccessRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/users', { config: { access: 'users:manage' }, schema: { response: { 200: z.object({ users: z.array(userSchema) }) } } }, async () => ({
    users: [...(await deps.access.listUsers())],
  }));

  // Creates a user with a first API token, shown once in the response (only its hash is kept), and optionally a password.
  api.post(
    '/api/users',
    // A 64-character name, a role and a ≤ 1024-character password: ≤ 6.6 kB even with every character \u-escaped.
    { config: { access: 'users:manage', body: jsonBody(8 * 1024) }, schema: { body: createUserRequestSchema, response: { 201: issuedTokenSchema } } },
    async (request, reply) => {
      const user = await deps.access.createUser(request.body.name, request.body.role);
      const token = await deps.access.issueToken(user.userId, 'created with the user');
      if (request.principal !== undefined) {
        const { userId, role } = request.principal;
        await deps.services.recordAudit({ type: 'user_created', userId: user.userId, grantedRole: user.role, createdBy: userId, role });
      }
      // Optional password for the dashboard (scrypt-hashed; audited as a password change by the administrator).
      if (request.body.password !== undefined && request.principal !== undefined) {
        await deps.dashboard.sessions.setPassword(request.principal, { userId: user.userId, password: request.body.password }, request.ip);
      }
      return reply.code(201).send({ user, tokenId: token.tokenId, token: token.secret });
    },
  );
}
