import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import type { StudyQuery, StudyRecord } from '../../ports/study-registry.js';
import type { StudyReads } from '../../workflows/study-reads.js';
import { findResultObject, type ResultObject } from '../../workflows/study-result-objects.js';
import { VIGIL_PRIVATE_CREATOR } from './dicomweb-routes.js';
import { principalOf } from '../route-config.js';

/** What the QIDO-RS and WADO-RS routes use, and nothing else. */
export interface DicomwebQueryRouteOptions {
  readonly reads: StudyReads;
  /** Vigil's result DICOM objects of a study (workflows/study-result-objects.ts), pseudonymous. */
  readonly studyResultObjects: (studyKey: string) => Promise<readonly ResultObject[]>;
}

/** QIDO-RS pages: at most this many matches per request (PS3.18 8.3.4.4 lets the origin server bound them). */
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;
/** Deepest page: an offset past this is refused rather than scanned. */
const MAX_OFFSET = 100_000;

const DICOM_JSON = 'application/dicom+json';
const uid = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID')
  .max(64);
const DA = /^\d{8}$/;

/**
 * The study-level query keys Vigil matches (PS3.18 Table 10.6.1-5), by keyword or tag. Any other
 * matching key is refused (400): a filter silently ignored would hand a client studies it did not ask for.
 */
const studyQuerySchema = z
  .strictObject({
    StudyInstanceUID: uid.optional(),
    '0020000D': uid.optional(),
    AccessionNumber: z.string().min(1).max(64).optional(),
    '00080050': z.string().min(1).max(64).optional(),
    StudyDate: z.string().max(17).optional(),
    '00080020': z.string().max(17).optional(),
    ModalitiesInStudy: z
      .string()
      .regex(/^[A-Z0-9_]{1,16}$/, 'one modality such as CR')
      .optional(),
    '00080061': z
      .string()
      .regex(/^[A-Z0-9_]{1,16}$/, 'one modality such as CR')
      .optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
    offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
    // Vigil answers with every attribute it keeps whatever is asked (PS3.18 allows more than requested).
    includefield: z.union([z.string().max(2000), z.array(z.string().max(2000)).max(100)]).optional(),
    fuzzymatching: z.enum(['true', 'false']).optional(),
  })
  .refine((q) => q.StudyInstanceUID === undefined || q['0020000D'] === undefined, { message: 'give StudyInstanceUID once' })
  .refine((q) => q.AccessionNumber === undefined || q['00080050'] === undefined, { message: 'give AccessionNumber once' });

/** Series and instance level: only paging and includefield (Vigil's result series are few). */
const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
  includefield: z.union([z.string().max(2000), z.array(z.string().max(2000)).max(100)]).optional(),
  fuzzymatching: z.enum(['true', 'false']).optional(),
});

const studyParams = z.object({ studyUid: uid });
const seriesParams = studyParams.extend({ seriesUid: uid });
const instanceParams = seriesParams.extend({ sopUid: uid });

type Element = { vr: string; Value?: unknown[] };
type DicomJson = Record<string, Element>;

/**
 * QIDO-RS (PS3.18 §10.6) over the studies the caller may see, and WADO-RS (§10.4) of Vigil's result
 * objects (the SR of each decided case), so that a DICOMweb client or viewer (OHIF) finds and fetches
 * Vigil's results. A study is named by its pseudonymous Study Instance UID (the one QIDO-RS answers
 * with) or by the sender's own: both key to the same study (keyed-pseudonyms.ts, remapUid), and the
 * sender's value is neither stored nor logged. The received images are not served: Vigil keeps them
 * de-identified for judging and review, not as an archive.
 */
export const dicomwebQueryRoutes: FastifyPluginAsync<DicomwebQueryRouteOptions> = (app, deps) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const read = { config: { access: 'studies:read' as const } };

  api.get('/dicomweb/studies', { ...read, schema: { querystring: studyQuerySchema } }, async (request, reply) => {
    const q = request.query;
    const studyInstanceUid = q.StudyInstanceUID ?? q['0020000D'];
    const accessionNumber = q.AccessionNumber ?? q['00080050'];
    const modality = q.ModalitiesInStudy ?? q['00080061'];
    const query = {
      limit: q.limit,
      offset: q.offset,
      studyInstanceUid,
      accessionNumber,
      ...dateRange(q.StudyDate ?? q['00080020']),
      ...(modality === undefined ? {} : { modality }),
    };
    // From the store alone (no object is read): a search stays one bounded query however many studies match.
    return sendJson(reply, (await deps.reads.search(principalOf(request), query)).map(studyAttributes));
  });

  api.get('/dicomweb/studies/:studyUid/series', { ...read, schema: { params: studyParams, querystring: pageQuerySchema } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    const series = [...new Map(objects.map((o) => [o.seriesInstanceUid, o])).values()];
    return sendJson(
      reply,
      page(series, request.query).map((o) => seriesAttributes(study, o, objects)),
    );
  });

  api.get('/dicomweb/studies/:studyUid/instances', { ...read, schema: { params: studyParams, querystring: pageQuerySchema } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    return sendJson(
      reply,
      page(objects, request.query).map((o) => instanceAttributes(study, o)),
    );
  });

  api.get(
    '/dicomweb/studies/:studyUid/series/:seriesUid/instances',
    { ...read, schema: { params: seriesParams, querystring: pageQuerySchema } },
    async (request, reply) => {
      const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
      const found = findResultObject(objects, request.params.seriesUid);
      return sendJson(
        reply,
        page(found, request.query).map((o) => instanceAttributes(study, o)),
      );
    },
  );

  // WADO-RS: the objects, and their metadata.
  api.get('/dicomweb/studies/:studyUid', { ...read, schema: { params: studyParams } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    if (objects.length === 0) throw new PlatformError('ROUTE_NOT_FOUND', 'The study has no result object yet');
    await auditRetrieval(deps, request, study, objects);
    return sendMultipart(request, reply, objects);
  });
  api.get('/dicomweb/studies/:studyUid/metadata', { ...read, schema: { params: studyParams } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    if (objects.length === 0) throw new PlatformError('ROUTE_NOT_FOUND', 'The study has no result object yet');
    await auditRetrieval(deps, request, study, objects);
    return sendJson(
      reply,
      objects.map((o) => o.metadata),
    );
  });
  api.get('/dicomweb/studies/:studyUid/series/:seriesUid', { ...read, schema: { params: seriesParams } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    const found = findResultObject(objects, request.params.seriesUid);
    await auditRetrieval(deps, request, study, found);
    return sendMultipart(request, reply, found);
  });
  api.get('/dicomweb/studies/:studyUid/series/:seriesUid/metadata', { ...read, schema: { params: seriesParams } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    const found = findResultObject(objects, request.params.seriesUid);
    await auditRetrieval(deps, request, study, found);
    return sendJson(
      reply,
      found.map((o) => o.metadata),
    );
  });
  api.get('/dicomweb/studies/:studyUid/series/:seriesUid/instances/:sopUid', { ...read, schema: { params: instanceParams } }, async (request, reply) => {
    const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
    const found = findResultObject(objects, request.params.seriesUid, request.params.sopUid);
    await auditRetrieval(deps, request, study, found);
    return sendMultipart(request, reply, found);
  });
  api.get(
    '/dicomweb/studies/:studyUid/series/:seriesUid/instances/:sopUid/metadata',
    { ...read, schema: { params: instanceParams } },
    async (request, reply) => {
      const { study, objects } = await resultObjectsOf(deps, request, request.params.studyUid);
      const found = findResultObject(objects, request.params.seriesUid, request.params.sopUid);
      await auditRetrieval(deps, request, study, found);
      return sendJson(
        reply,
        found.map((o) => o.metadata),
      );
    },
  );
  return Promise.resolve();
};

/** The study a DICOMweb path names (by either UID), within the caller's scope, and its result objects. */
async function resultObjectsOf(
  deps: DicomwebQueryRouteOptions,
  request: FastifyRequest,
  studyUid: string,
): Promise<{ readonly study: StudyRecord; readonly objects: readonly ResultObject[] }> {
  const study = await deps.reads.studyByUid(principalOf(request), studyUid);
  return { study, objects: await deps.studyResultObjects(study.studyKey) };
}

/** Every retrieval of a result is a read of its case, as the API's reads are. */
function auditRetrieval(deps: DicomwebQueryRouteOptions, request: FastifyRequest, study: StudyRecord, objects: readonly ResultObject[]): Promise<void> {
  return deps.reads.recordCaseReads(
    principalOf(request),
    study.studyKey,
    objects.map((o) => o.caseId),
  );
}

/** StudyDate matching (PS3.4 C.2.2.2.5): one date, or a range with either end open. */
function dateRange(value: string | undefined): Pick<StudyQuery, 'studyDateFrom' | 'studyDateTo'> {
  if (value === undefined) return {};
  const [from = '', to, ...rest] = value.split('-');
  const isDate = (d: string): boolean => d === '' || DA.test(d);
  if (rest.length > 0 || !isDate(from) || (to !== undefined && !isDate(to)) || (from === '' && (to ?? '') === '')) {
    throw new PlatformError('REQUEST_INVALID', 'StudyDate takes YYYYMMDD, or a range YYYYMMDD-YYYYMMDD with either end left open');
  }
  if (to === undefined) return { studyDateFrom: from, studyDateTo: from };
  // A range the wrong way round would match nothing, which reads as "no such study": refused (as /api's from/to).
  if (from !== '' && to !== '' && from > to)
    throw new PlatformError('REQUEST_INVALID', 'StudyDate: a range YYYYMMDD-YYYYMMDD whose end is not before its start');
  return { ...(from === '' ? {} : { studyDateFrom: from }), ...(to === '' ? {} : { studyDateTo: to }) };
}

function page<T>(items: readonly T[], q: { readonly limit: number; readonly offset: number }): readonly T[] {
  return items.slice(q.offset, q.offset + q.limit);
}

const text = (vr: string, value: string | null | undefined): Element =>
  value === null || value === undefined || value === '' ? { vr } : { vr, Value: [value] };

/**
 * The de-identified study-level attributes Vigil keeps (PS3.18 Table 10.6.3-3), plus its study key and
 * state: the received study as it is (its modalities, its instance count); the series below it are
 * Vigil's result series only.
 */
function studyAttributes(study: StudyRecord): DicomJson {
  const retrieve = `/dicomweb/studies/${study.studyUid}`;
  const modalities = study.modalities;
  return {
    '00080020': text('DA', study.studyDate),
    // Emptied by de-identification (PS3.15 action Z); Vigil keeps only a keyed lookup key of it.
    '00080050': { vr: 'SH' },
    '00080061': modalities.length === 0 ? { vr: 'CS' } : { vr: 'CS', Value: [...modalities] },
    '00081190': { vr: 'UR', Value: [retrieve] },
    '00090010': { vr: 'LO', Value: [VIGIL_PRIVATE_CREATOR] },
    '00091001': { vr: 'LO', Value: [study.studyKey] },
    '00091006': { vr: 'CS', Value: [study.state.toUpperCase()] },
    '0020000D': { vr: 'UI', Value: [study.studyUid] },
    '00201208': { vr: 'IS', Value: [study.instances] },
  };
}

function seriesAttributes(study: StudyRecord, series: ResultObject, all: readonly ResultObject[]): DicomJson {
  return {
    '00080060': { vr: 'CS', Value: ['SR'] },
    '00081190': { vr: 'UR', Value: [`/dicomweb/studies/${study.studyUid}/series/${series.seriesInstanceUid}`] },
    '0008103E': { vr: 'LO', Value: [series.current ? 'Vigil AI result' : 'Vigil AI result (superseded)'] },
    '0020000D': { vr: 'UI', Value: [study.studyUid] },
    '0020000E': { vr: 'UI', Value: [series.seriesInstanceUid] },
    '00200011': { vr: 'IS', Value: [series.seriesNumber] },
    '00201209': { vr: 'IS', Value: [all.filter((o) => o.seriesInstanceUid === series.seriesInstanceUid).length] },
  };
}

function instanceAttributes(study: StudyRecord, o: ResultObject): DicomJson {
  return {
    '00080016': { vr: 'UI', Value: [o.sopClassUid] },
    '00080018': { vr: 'UI', Value: [o.sopInstanceUid] },
    '00080060': { vr: 'CS', Value: ['SR'] },
    '00081190': { vr: 'UR', Value: [`/dicomweb/studies/${study.studyUid}/series/${o.seriesInstanceUid}/instances/${o.sopInstanceUid}`] },
    '0020000D': { vr: 'UI', Value: [study.studyUid] },
    '0020000E': { vr: 'UI', Value: [o.seriesInstanceUid] },
    '00200013': { vr: 'IS', Value: [o.instanceNumber] },
  };
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type(DICOM_JSON).send(JSON.stringify(body));
}

/**
 * `multipart/related; type="application/dicom"` (PS3.18 8.7.3.3.2, RFC 2387): each object a part of its
 * own. An Accept that asks for nothing Vigil can give gets 406; no Accept, `*\/*` or multipart/related
 * (with type application/dicom or none) gets the objects.
 */
function sendMultipart(request: FastifyRequest, reply: FastifyReply, objects: readonly ResultObject[]): FastifyReply {
  if (!acceptsDicomMultipart(request.headers.accept)) {
    throw new PlatformError('REQUEST_NOT_ACCEPTABLE', 'Result objects are served as multipart/related; type="application/dicom" only');
  }
  const boundary = `vigil-${randomBytes(16).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const o of objects) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${o.bytes.length}\r\n\r\n`, 'latin1'));
    chunks.push(Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength));
    chunks.push(Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return reply.type(`multipart/related; type="application/dicom"; boundary=${boundary}`).send(Buffer.concat(chunks));
}

function acceptsDicomMultipart(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [mediaType = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (mediaType === '*/*' || mediaType === 'multipart/*') return true;
    if (mediaType !== 'multipart/related') return false;
    const type = params
      .find((p) => p.startsWith('type='))
      ?.slice(5)
      .replaceAll('"', '');
    return type === undefined || type === 'application/dicom';
  });
}
