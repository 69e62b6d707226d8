import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../../domain/errors.js';
import type { StoredPart } from '../../workflows/store-instances.js';
import type { HttpDependencies } from '../create-http-app.js';
import { contentTypeParameters, parseMultipartRelated } from '../internal/multipart-related.js';
import { multipartRelatedBody } from '../route-body.js';

/** Most instances one STOW-RS request may carry. */
const MAX_PARTS = 10_000;

/** PS3.18 Table 10.5.3-3 failure reasons (Failure Reason (0008,1197)), from PS3.4 C-STORE statuses. */
const FAILURE_REASON = { out_of_resources: 0xa700, cannot_understand: 0xc000, processing_failure: 0x0110 } as const;

/**
 * STOW-RS (PS3.18 §10.5): `POST /dicomweb/studies` with `multipart/related; type="application/dicom"`.
 * Each instance is ingested like a C-STORE (de-identified, stored durably, assembled). The response
 * is the Store Instances Response Module in DICOM JSON: 200 when all were stored, 202 when some
 * failed, 409 when none was.
 */
export function registerDicomwebRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const options = {
    config: { access: 'ingest:write', body: multipartRelatedBody(deps.bodyLimitBytes) },
    // After the app's onRequest (authentication, media type, Content-Length), still before the body
    // is read: a multipart body of something other than DICOM is refused from its header.
    onRequest: async (request: FastifyRequest) => {
      const { params } = contentTypeParameters(request.headers['content-type'] ?? '');
      if (params.type !== undefined && params.type.toLowerCase() !== 'application/dicom') {
        throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'STOW-RS takes multipart/related; type="application/dicom"');
      }
      return Promise.resolve();
    },
  } as const;
  app.post('/dicomweb/studies', options, async (request, reply) => {
    const { params } = contentTypeParameters(request.headers['content-type'] ?? '');
    const parsed = parseMultipartRelated(request.body as Buffer, params.boundary ?? '', MAX_PARTS);
    if (!parsed.ok) throw new PlatformError('REQUEST_INVALID', `The multipart body is malformed: ${parsed.reason}`);
    const dicomParts = parsed.parts.filter((p) => (p.headers['content-type'] ?? 'application/dicom').toLowerCase().startsWith('application/dicom'));
    if (dicomParts.length === 0) throw new PlatformError('REQUEST_INVALID', 'The request holds no application/dicom part');
    const results = await deps.services.storeInstances(dicomParts.map((p) => p.body));
    const stored = results.filter((r) => r.outcome.status === 'stored' || r.outcome.status === 'duplicate');
    const failed = results.filter((r) => !(r.outcome.status === 'stored' || r.outcome.status === 'duplicate'));
    const status = failed.length === 0 ? 200 : stored.length > 0 ? 202 : 409;
    return reply
      .code(status)
      .type('application/dicom+json')
      .send({
        ...(stored.length === 0 ? {} : { '00081199': { vr: 'SQ', Value: stored.map((r) => reference(r)) } }),
        ...(failed.length === 0
          ? {}
          : { '00081198': { vr: 'SQ', Value: failed.map((r) => ({ ...reference(r), '00081197': { vr: 'US', Value: [failureReason(r)] } })) } }),
      });
  });
}

function reference(part: StoredPart): Record<string, { vr: string; Value?: string[] }> {
  const uid = (value: string | undefined) => (value === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [value] });
  return { '00081150': uid(part.identity.sopClassUid), '00081155': uid(part.identity.sopInstanceUid) };
}

function failureReason(part: StoredPart): number {
  const outcome = part.outcome;
  if (outcome.status === 'refused') return FAILURE_REASON[outcome.reason];
  return FAILURE_REASON.processing_failure;
}
