import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { assertCaseInScope } from '../internal/study-access.js';
import type { HttpDependencies } from '../create-http-app.js';

const params = z.object({ caseId: z.string().min(1).max(300), index: z.coerce.number().int().min(0).max(100_000) });
const query = z
  .object({
    /** Longest side in pixels; the image is shrunk to it, never enlarged. */
    size: z.coerce.number().int().min(4).max(4096).default(1024),
    wc: z.coerce.number().finite().optional(),
    ww: z.coerce.number().finite().positive().optional(),
  })
  .refine((q) => (q.wc === undefined) === (q.ww === undefined), { message: 'give wc and ww together', path: ['wc'] });

/** The review screen's image: rendered on the server, so no DICOM reaches the browser. */
export function registerCaseImageRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/cases/:caseId/images/:index', { config: { access: 'studies:read' }, schema: { params, querystring: query } }, async (request, reply) => {
    const principal = request.principal;
    if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
    await assertCaseInScope(deps, principal, request.params.caseId);
    const { wc, ww, size } = request.query;
    const image = await deps.dashboard.renderCaseImage({
      caseId: request.params.caseId,
      index: request.params.index,
      maxSide: size,
      ...(wc === undefined || ww === undefined ? {} : { window: { center: wc, width: ww } }),
    });
    // Every view of a case's image is a read of the case.
    await deps.services.recordAudit({
      type: 'case_read',
      studyKey: image.studyKey,
      caseId: request.params.caseId,
      userId: principal.userId,
      role: principal.role,
    });
    return reply
      .type('image/png')
      .header('x-vigil-window', `${image.window.source};center=${image.window.center};width=${image.window.width}`)
      .header('x-vigil-burned-in-risk', image.burnedInRisks.length === 0 ? 'none' : image.burnedInRisks.join(','))
      .send(Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength));
  });
}
