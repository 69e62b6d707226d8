import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { listQuerySchema, reviewRequestSchema, reviewSchema, worklistItemSchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';
import { jsonBody } from '../route-body.js';

const itemParams = z.object({ itemId: z.string().min(1).max(320) });

export function registerWorklistRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/worklist',
    { config: { access: 'worklist:read' }, schema: { querystring: listQuerySchema, response: { 200: z.object({ items: z.array(worklistItemSchema) }) } } },
    async (request) => ({ items: (await deps.worklist.listOpen(request.query.limit)).map((i) => ({ ...i, reasons: [...i.reasons] })) }),
  );

  // A reviewer's read: the ground truth that live performance monitoring uses. Audited.
  api.post(
    '/api/worklist/:itemId/review',
    // Three booleans and a ≤ 2000-character comment: ≤ 12.1 kB even with every character \u-escaped.
    {
      config: { access: 'reviews:write', body: jsonBody(16 * 1024) },
      schema: { params: itemParams, body: reviewRequestSchema, response: { 201: reviewSchema } },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
      const review = await deps.services.recordReview(request.params.itemId, principal.userId, request.body);
      return reply.code(201).send(review);
    },
  );

  api.get(
    '/api/reviews',
    { config: { access: 'reviews:read' }, schema: { querystring: listQuerySchema, response: { 200: z.object({ reviews: z.array(reviewSchema) }) } } },
    async (request) => ({ reviews: [...(await deps.worklist.listReviews(request.query.limit))] }),
  );
}
