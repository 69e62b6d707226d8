import { describeValidationIssues } from '../../domain/validation-issues.js';
import type { FastifyInstance } from 'fastify';
import { PlatformError, isErrorCode, isPlatformError } from '../../domain/errors.js';
import type { StudyDeclaration } from '../../ports/instance-store.js';
import type { UploadResult } from '../../workflows/ingest-upload.js';
import type { StoredPart } from '../../workflows/store-instances.js';
import { uploadDeclarationSchema, type UploadPartOutcome } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';
import { contentTypeParameters, parseMultipartRelated, type RelatedPart } from '../internal/multipart-related.js';
import { principalOf } from '../internal/study-access.js';
import { linkStudies } from '../internal/study-links.js';
import { uploadBody } from '../route-body.js';

/** Most files one upload may carry. */
const MAX_IMAGES = 1_000;
/** The declaration's six short fields take ~300 bytes; a larger one is refused before JSON.parse and zod walk it. */
const MAX_DECLARATION_BYTES = 4 * 1024;
/** The form field that carries the declaration in a `multipart/form-data` upload. */
const DECLARATION_FIELD = 'declaration';
const EXPECTED_FORM = `a "${DECLARATION_FIELD}" field (JSON, optional) and file parts (PNG, JPEG or DICOM)`;

/**
 * `POST /api/images`: device images with what their sender declares about them, as one request, either
 * `multipart/related` (RFC 2387: the first part the `application/json` declaration, then the files) or
 * `multipart/form-data` (RFC 7578, what `curl -F` sends: an optional `declaration` field and file
 * parts). PNG/JPEG files form one study; a DICOM file (PS3.10, `DICM` at byte 128, or a part typed
 * `application/dicom`) goes through the same ingest as STOW-RS into its own study. The answer maps each
 * file, by its position among the files (from 0), to what became of it.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  // Only the two multipart types reach the handler (anything else is 415 before it is read).
  app.post('/api/images', { config: { access: 'ingest:write', body: uploadBody(deps.bodyLimitBytes) } }, async (request, reply) => {
    const principal = principalOf(request);
    const { mediaType, params } = contentTypeParameters(request.headers['content-type'] ?? '');
    const parsed = parseMultipartRelated(request.body as Buffer, params.boundary ?? '', MAX_IMAGES + 1);
    if (!parsed.ok) throw new PlatformError('REQUEST_INVALID', `The multipart body is malformed: ${parsed.reason}`);
    const { declarationBytes, files } = mediaType === 'multipart/form-data' ? splitForm(parsed.parts) : splitRelated(parsed.parts);
    const declaration = readDeclaration(declarationBytes);
    if (files.length === 0) throw new PlatformError('REQUEST_INVALID', `The upload holds no file: send ${EXPECTED_FORM}`);
    if (files.length > MAX_IMAGES) throw new PlatformError('REQUEST_INVALID', `An upload takes at most ${MAX_IMAGES} files`, { limit: MAX_IMAGES });
    const sender = { senderId: principal.userId };

    const dicomIndexes = files.flatMap((f, i) => (isDicomPart(f) ? [i] : []));
    const imageIndexes = files.flatMap((f, i) => (isDicomPart(f) ? [] : [i]));
    const outcomes = new Map<number, UploadPartOutcome>();
    let upload: UploadResult | undefined;
    if (imageIndexes.length > 0) {
      try {
        upload = await deps.services.uploadImages(
          declaration,
          imageIndexes.map((i) => (files[i] as RelatedPart).body),
          sender,
        );
      } catch (error) {
        // No PNG or JPEG among the non-DICOM files: with DICOM files beside them, those are refused one by one.
        if (!(isPlatformError(error) && error.code === 'INPUT_FORMAT_UNKNOWN' && dicomIndexes.length > 0)) throw error;
      }
      imageIndexes.forEach((fileIndex, imageIndex) => {
        const part = upload?.parts.find((p) => p.index === imageIndex);
        outcomes.set(
          fileIndex,
          part === undefined || part.status === 'refused'
            ? { index: fileIndex, kind: 'image', status: 'refused', code: part?.status === 'refused' ? part.code : 'INPUT_FORMAT_UNKNOWN' }
            : { index: fileIndex, kind: 'image', status: part.status, studyKey: part.studyKey, sopInstanceUid: part.sopInstanceUid },
        );
      });
    }
    if (dicomIndexes.length > 0) {
      const stored = await deps.services.storeInstances(
        dicomIndexes.map((i) => (files[i] as RelatedPart).body),
        sender,
      );
      stored.forEach((part, j) => {
        const index = dicomIndexes[j] as number;
        outcomes.set(index, dicomOutcome(index, part));
      });
    }
    const parts = [...outcomes.values()].sort((a, b) => a.index - b.index);
    const accepted = parts.filter((p) => p.status === 'stored' || p.status === 'duplicate');
    if (accepted.length === 0) {
      // One reason for every file (a DICOM file without a Study Instance UID, a full disk): that reason,
      // with its own status; files Vigil cannot read at all: what it takes.
      const codes = new Set(parts.map((p) => p.code ?? 'INTERNAL'));
      const [only] = codes;
      if (codes.size === 1 && only !== undefined && only !== 'INPUT_FORMAT_UNKNOWN' && isErrorCode(only)) {
        throw new PlatformError(only, `No file of the upload could be stored: each was refused with ${only}`, { parts: parts.length });
      }
      throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'No file of the upload could be stored: send PNG, JPEG or DICOM files', { parts: parts.length });
    }
    const studyKeys = accepted.flatMap((p) => (p.studyKey === undefined ? [] : [p.studyKey]));
    return reply.code(201).send({
      // The images' study, else the first stored DICOM file's (an upload of images is one study).
      studyKey: upload?.studyKey ?? studyKeys[0],
      stored: parts.filter((p) => p.status === 'stored').length,
      duplicates: parts.filter((p) => p.status === 'duplicate').length,
      failed: parts.flatMap((p) => (p.status === 'stored' || p.status === 'duplicate' ? [] : [{ index: p.index, code: p.code ?? 'INTERNAL' }])),
      parts,
      studies: await linkStudies(deps, studyKeys),
    });
  });
}

/** `multipart/related`: the first part is the declaration, every other part a file. */
function splitRelated(parts: readonly RelatedPart[]): { declarationBytes: Uint8Array | undefined; files: readonly RelatedPart[] } {
  const [first, ...files] = parts;
  if (first === undefined || !(first.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    throw new PlatformError('REQUEST_INVALID', 'The first part must be the application/json declaration');
  }
  return { declarationBytes: first.body, files };
}

/** `multipart/form-data`: the `declaration` field (optional), and parts that carry a filename. */
function splitForm(parts: readonly RelatedPart[]): { declarationBytes: Uint8Array | undefined; files: readonly RelatedPart[] } {
  let declarationBytes: Uint8Array | undefined;
  const files: RelatedPart[] = [];
  for (const part of parts) {
    const disposition = contentTypeParameters(part.headers['content-disposition'] ?? '');
    if (disposition.mediaType !== 'form-data') throw new PlatformError('REQUEST_INVALID', 'A form part has no Content-Disposition: form-data');
    if (disposition.params.name === DECLARATION_FIELD) {
      if (declarationBytes !== undefined) throw new PlatformError('REQUEST_INVALID', `The "${DECLARATION_FIELD}" field is given twice`);
      declarationBytes = part.body;
    } else if (disposition.params.filename !== undefined) {
      files.push(part);
    } else {
      // The field's name is not quoted back: a form is the sender's, and its names could be anything.
      throw new PlatformError('REQUEST_INVALID', `The form holds a field Vigil does not take: send ${EXPECTED_FORM}`);
    }
  }
  return { declarationBytes, files };
}

function readDeclaration(bytes: Uint8Array | undefined): StudyDeclaration {
  if (bytes === undefined) return {};
  if (bytes.length > MAX_DECLARATION_BYTES) {
    throw new PlatformError('REQUEST_INVALID', `The declaration is larger than ${MAX_DECLARATION_BYTES} bytes`, { limitBytes: MAX_DECLARATION_BYTES });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PlatformError('REQUEST_INVALID', 'The declaration is not valid JSON');
  }
  const declaration = uploadDeclarationSchema.safeParse(json);
  if (!declaration.success) {
    throw new PlatformError('REQUEST_INVALID', `The declaration is invalid: ${describeValidationIssues(declaration.error.issues).join('; ')}`);
  }
  const { site, device, modality, bodyPart, view, patientAgeYears } = declaration.data;
  return {
    ...(site === undefined ? {} : { site }),
    ...(device === undefined ? {} : { device }),
    ...(modality === undefined ? {} : { modality }),
    ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
    ...(view === undefined ? {} : { viewPosition: view }),
    ...(patientAgeYears === undefined ? {} : { patientAgeYears }),
  };
}

/** PS3.10 7.1: a DICOM file has a 128-byte preamble and then `DICM`; a part may also say what it is. */
function isDicomPart(part: RelatedPart): boolean {
  if ((part.headers['content-type'] ?? '').toLowerCase().startsWith('application/dicom')) return true;
  const b = part.body;
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

function dicomOutcome(index: number, part: StoredPart): UploadPartOutcome {
  const outcome = part.outcome;
  if (outcome.status === 'stored' || outcome.status === 'duplicate') {
    return { index, kind: 'dicom', status: outcome.status, studyKey: outcome.studyKey, sopInstanceUid: outcome.sopInstanceUid };
  }
  if (outcome.status === 'refused') return { index, kind: 'dicom', status: 'refused', code: outcome.code, reason: outcome.reason };
  return { index, kind: 'dicom', status: 'failed', code: 'code' in outcome ? outcome.code : 'INTERNAL' };
}
