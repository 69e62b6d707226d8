import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import type { WorklistCursor, WorklistFilter, WorklistItem, WorklistStore } from '../../ports/worklist-store.js';
import type { VigilServices } from '../../workflows/vigil-services.js';
import {
  listQuerySchema,
  reviewRequestSchema,
  reviewListSchema,
  reviewSchema,
  worklistItemDetailSchema,
  worklistPageSchema,
  worklistQuerySchema,
  type WorklistItemBody,
} from '../contract.js';
import { jsonBody } from '../route-body.js';
import { principalOf } from '../route-config.js';

/** What the worklist and review routes use, and nothing else. */
export interface WorklistRouteOptions {
  readonly worklist: Pick<WorklistStore, 'list' | 'countByPriority' | 'get' | 'listReviews'>;
  readonly recordReview: VigilServices['recordReview'];
}

const itemParams = z.object({ itemId: z.string().min(1).max(320) });

/** The cursor is the sort key of a page's last item, opaque to clients: base64url of `[rank, createdAtMs, itemId]`. */
export function encodeWorklistCursor(cursor: WorklistCursor): string {
  return Buffer.from(JSON.stringify([cursor.priorityRank, cursor.createdAtMs, cursor.itemId])).toString('base64url');
}

const cursorShape = z.tuple([z.number().int().min(0).max(3), z.number().int().min(0), z.string().min(1).max(320)]);

export function decodeWorklistCursor(text: string): WorklistCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const checked = cursorShape.safeParse(parsed);
  if (!checked.success) throw new PlatformError('REQUEST_INVALID', 'The request is invalid: cursor is not one the worklist returned');
  const [priorityRank, createdAtMs, itemId] = checked.data;
  return { priorityRank, createdAtMs, itemId };
}

function toBody(item: WorklistItem): WorklistItemBody {
  const { resultIndexes, ...rest } = item;
  return { ...rest, reasons: [...item.reasons], modalities: [...item.modalities], imageCount: resultIndexes.length };
}

export const worklistRoutes: FastifyPluginAsync<WorklistRouteOptions> = (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  // By clinical priority (referred, warned, rejected, sampled), then oldest waiting first; filtered and
  // paged here, not in the browser (docs/api.md, "Review worklist").
  api.get(
    '/api/worklist',
    { config: { access: 'worklist:read' }, schema: { querystring: worklistQuerySchema, response: { 200: worklistPageSchema } } },
    async (request) => {
      const q = request.query;
      const fromMs = q.from === undefined ? undefined : Date.parse(q.from);
      const toMs = q.to === undefined ? undefined : Date.parse(q.to);
      const filter: WorklistFilter = {
        state: q.state,
        ...(q.priority === undefined ? {} : { priority: q.priority }),
        ...(q.reason === undefined ? {} : { reason: q.reason }),
        ...(q.modality === undefined ? {} : { modality: q.modality }),
        ...(q.site === undefined ? {} : { site: q.site }),
        ...(q.device === undefined ? {} : { device: q.device }),
        ...(fromMs === undefined ? {} : { fromMs }),
        ...(toMs === undefined ? {} : { toMs }),
      };
      const after = q.cursor === undefined ? undefined : decodeWorklistCursor(q.cursor);
      const [page, counts] = await Promise.all([
        deps.worklist.list({ ...filter, limit: q.limit, ...(after === undefined ? {} : { after }) }),
        deps.worklist.countByPriority(filter),
      ]);
      return { items: page.items.map(toBody), counts: { ...counts }, next: page.next === undefined ? null : encodeWorklistCursor(page.next) };
    },
  );

  api.get(
    '/api/worklist/:itemId',
    { config: { access: 'worklist:read' }, schema: { params: itemParams, response: { 200: worklistItemDetailSchema } } },
    async (request) => {
      const item = await deps.worklist.get(request.params.itemId);
      if (item === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No worklist item has this id');
      return { ...toBody(item), resultIndexes: [...item.resultIndexes] };
    },
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
      const review = await deps.recordReview(request.params.itemId, principalOf(request).userId, request.body);
      return reply.code(201).send(review);
    },
  );

  api.get(
    '/api/reviews',
    { config: { access: 'reviews:read' }, schema: { querystring: listQuerySchema, response: { 200: reviewListSchema } } },
    async (request) => ({ reviews: [...(await deps.worklist.listReviews(request.query.limit))] }),
  );
  return Promise.resolve();
};
