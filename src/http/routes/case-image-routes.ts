import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CaseImage, CaseImageRequest } from '../../workflows/render-case-image.js';
import type { StudyReads } from '../../workflows/study-reads.js';
import { principalOf } from '../route-config.js';

/** What the case image route uses, and nothing else. */
export interface CaseImageRouteOptions {
  readonly reads: StudyReads;
  /** A case's judged image as a windowed PNG (workflows/render-case-image.ts). */
  readonly renderCaseImage: (request: CaseImageRequest) => Promise<CaseImage>;
}

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
export const caseImageRoutes: FastifyPluginAsync<CaseImageRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/cases/:caseId/images/:index', { config: { access: 'studies:read' }, schema: { params, querystring: query } }, async (request, reply) => {
    const { caseId, index } = request.params;
    const { wc, ww, size } = request.query;
    // Every view of a case's image is a read of the case.
    const image = await options.reads.fromCase(principalOf(request), caseId, () =>
      options.renderCaseImage({ caseId, index, maxSide: size, ...(wc === undefined || ww === undefined ? {} : { window: { center: wc, width: ww } }) }),
    );
    return reply
      .type('image/png')
      .header('x-vigil-window', `${image.window.source};center=${image.window.center};width=${image.window.width}`)
      .header('x-vigil-burned-in-risk', image.burnedInRisks.length === 0 ? 'none' : image.burnedInRisks.join(','))
      .send(Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength));
  });
  return Promise.resolve();
};
