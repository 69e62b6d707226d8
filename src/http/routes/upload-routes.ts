import { describeValidationIssues } from '../../domain/validation-issues.js';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { PlatformError } from '../../domain/errors.js';
import type { StudyDeclaration } from '../../ports/instance-store.js';
import { uploadFiles, type UploadFilesDependencies } from '../../workflows/upload-files.js';
import { uploadDeclarationSchema, uploadResponseSchema } from '../contract.js';
import { contentTypeParameters, parseMultipartRelated, type RelatedPart } from '../internal/multipart-related.js';
import { linkStudies, type StudyLinkSources } from '../internal/study-links.js';
import { uploadBody } from '../route-body.js';
import { principalOf } from '../route-config.js';

/** What the upload route uses, and nothing else. */
export interface UploadRouteOptions extends UploadFilesDependencies, StudyLinkSources {
  /** Largest upload body, in bytes. */
  readonly bodyLimitBytes: number;
}

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
 * `application/dicom`) goes through the same ingest as STOW-RS into its own study
 * (workflows/upload-files.ts). The answer maps each file, by its position among the files (from 0), to
 * what became of it.
 */
export const uploadRoutes: FastifyPluginAsync<UploadRouteOptions> = (app, deps) => {
  // Only the two multipart types reach the handler (anything else is 415 before it is read).
  app
    .withTypeProvider<ZodTypeProvider>()
    .post(
      '/api/images',
      { config: { access: 'ingest:write', body: uploadBody(deps.bodyLimitBytes) }, schema: { response: { 201: uploadResponseSchema } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const { mediaType, params } = contentTypeParameters(request.headers['content-type'] ?? '');
        const parsed = parseMultipartRelated(request.body as Buffer, params.boundary ?? '', MAX_IMAGES + 1);
        if (!parsed.ok) throw new PlatformError('REQUEST_INVALID', `The multipart body is malformed: ${parsed.reason}`);
        const { declarationBytes, files } = mediaType === 'multipart/form-data' ? splitForm(parsed.parts) : splitRelated(parsed.parts);
        const declaration = readDeclaration(declarationBytes);
        if (files.length === 0) throw new PlatformError('REQUEST_INVALID', `The upload holds no file: send ${EXPECTED_FORM}`);
        if (files.length > MAX_IMAGES) throw new PlatformError('REQUEST_INVALID', `An upload takes at most ${MAX_IMAGES} files`, { limit: MAX_IMAGES });
        const { studyKeys, ...uploaded } = await uploadFiles(
          deps,
          declaration,
          files.map((f) => ({ bytes: f.body, isDicom: isDicomPart(f) })),
          { senderId: principal.userId },
        );
        return reply.code(201).send({ ...uploaded, parts: [...uploaded.parts], failed: [...uploaded.failed], studies: await linkStudies(deps, studyKeys) });
      },
    );
  return Promise.resolve();
};

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
