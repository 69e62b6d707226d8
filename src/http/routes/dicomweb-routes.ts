import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PlatformError } from '../../domain/errors.js';
import type { StoredPart } from '../../workflows/store-instances.js';
import type { VigilServices } from '../../workflows/vigil-services.js';
import { contentTypeParameters, parseMultipartRelated } from '../internal/multipart-related.js';
import { linkStudies, type StudyLinkSources, type StudyLinks } from '../internal/study-links.js';
import { multipartRelatedBody } from '../route-body.js';
import { principalOf } from '../route-config.js';

/** What STOW-RS uses, and nothing else. */
export interface DicomwebRouteOptions extends StudyLinkSources {
  readonly storeInstances: VigilServices['storeInstances'];
  /** Largest STOW-RS body, in bytes. */
  readonly bodyLimitBytes: number;
}

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
export const dicomwebRoutes: FastifyPluginAsync<DicomwebRouteOptions> = (app, deps) => {
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
    const results = await deps.storeInstances(
      dicomParts.map((p) => p.body),
      { senderId: principalOf(request).userId },
    );
    const stored = results.filter((r) => r.outcome.status === 'stored' || r.outcome.status === 'duplicate');
    const failed = results.filter((r) => !(r.outcome.status === 'stored' || r.outcome.status === 'duplicate'));
    const status = failed.length === 0 ? 200 : stored.length > 0 ? 202 : 409;
    const studies = await linkStudies(
      deps,
      stored.flatMap((r) => ('studyKey' in r.outcome ? [r.outcome.studyKey] : [])),
    );
    const linkOf = new Map(studies.map((l) => [l.studyKey, l]));
    // One study (the usual STOW-RS request): its Retrieve URL (0008,1190) at the top, as PS3.18 Table 10.5.3-1 has it.
    const [only] = studies;
    const retrieveUrl = studies.length === 1 && only?.dicomweb !== undefined ? { '00081190': { vr: 'UR', Value: [only.dicomweb] } } : {};
    // RFC 8288: one Link header, a comma-separated link per study.
    if (studies.length > 0) void reply.header('link', studies.map((l) => `<${l.study}>; rel="related"; title="${l.studyKey}"`).join(', '));
    return reply
      .code(status)
      .type('application/dicom+json')
      .header('x-vigil-study-keys', studies.map((l) => l.studyKey).join(', '))
      .send({
        ...retrieveUrl,
        ...(stored.length === 0 ? {} : { '00081199': { vr: 'SQ', Value: stored.map((r) => ({ ...reference(r), ...vigilExtras(r, linkOf) })) } }),
        ...(failed.length === 0
          ? {}
          : {
              '00081198': {
                vr: 'SQ',
                Value: failed.map((r) => ({ ...reference(r), '00081197': { vr: 'US', Value: [failureReason(r)] }, ...vigilExtras(r, linkOf) })),
              },
            }),
      });
  });
  return Promise.resolve();
};

type DicomJsonElement = { vr: string; Value?: (string | number)[] };

function reference(part: StoredPart): Record<string, DicomJsonElement> {
  const uid = (value: string | undefined) => (value === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [value] });
  return { '00081150': uid(part.identity.sopClassUid), '00081155': uid(part.identity.sopInstanceUid) };
}

/**
 * Vigil's additions to one Referenced or Failed SOP Sequence item, as private elements of the block
 * `VIGIL 1.0` (PS3.5 7.8.1: creator (0009,0010), elements (0009,10xx)), so that a DICOMweb client reads
 * the response as a valid Store Instances Response and may ignore them: the study key, the
 * de-identified SOP Instance UID and the study's API URL for a stored instance, Vigil's error code for
 * one that failed. docs/api.md, "STOW-RS", lists them.
 */
function vigilExtras(part: StoredPart, links: ReadonlyMap<string, StudyLinks>): Record<string, DicomJsonElement> {
  const outcome = part.outcome;
  const creator = { '00090010': { vr: 'LO', Value: [VIGIL_PRIVATE_CREATOR] } };
  if (outcome.status === 'stored' || outcome.status === 'duplicate') {
    const link = links.get(outcome.studyKey);
    return {
      ...creator,
      '00091001': { vr: 'LO', Value: [outcome.studyKey] },
      '00091002': { vr: 'UI', Value: [outcome.sopInstanceUid] },
      ...(link === undefined ? {} : { '00091003': { vr: 'UR', Value: [link.study] } }),
      '00091004': { vr: 'CS', Value: [outcome.status.toUpperCase()] },
    };
  }
  return { ...creator, '00091005': { vr: 'LO', Value: ['code' in outcome ? outcome.code : 'INTERNAL'] } };
}

/** The private creator of Vigil's elements in DICOM JSON responses. */
export const VIGIL_PRIVATE_CREATOR = 'VIGIL 1.0';

function failureReason(part: StoredPart): number {
  const outcome = part.outcome;
  if (outcome.status === 'refused') return FAILURE_REASON[outcome.reason];
  return FAILURE_REASON.processing_failure;
}
