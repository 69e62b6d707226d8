import type { FastifyInstance } from 'fastify';
import { PlatformError } from '../../domain/errors.js';
import { uploadDeclarationSchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';
import { contentTypeParameters, parseMultipartRelated } from '../internal/multipart-related.js';
import { multipartRelatedBody } from '../route-body.js';

/** Most images one upload may carry. */
const MAX_IMAGES = 1_000;
/** The declaration's six short fields take ~300 bytes; a larger first part is refused before JSON.parse and zod walk it. */
const MAX_DECLARATION_BYTES = 4 * 1024;

/**
 * `POST /api/images`: PNG/JPEG device images with JSON metadata, as one `multipart/related` request
 * (RFC 2387): the first part `application/json` with the declaration, then `image/png` or
 * `image/jpeg` parts. One upload is one study.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  // Only multipart/related reaches the handler (anything else is 415 before it is read).
  app.post('/api/images', { config: { access: 'ingest:write', body: multipartRelatedBody(deps.bodyLimitBytes) } }, async (request, reply) => {
    const { params } = contentTypeParameters(request.headers['content-type'] ?? '');
    const parsed = parseMultipartRelated(request.body as Buffer, params.boundary ?? '', MAX_IMAGES + 1);
    if (!parsed.ok) throw new PlatformError('REQUEST_INVALID', `The multipart body is malformed: ${parsed.reason}`);
    const [first, ...images] = parsed.parts;
    if (first === undefined || !(first.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw new PlatformError('REQUEST_INVALID', 'The first part must be the application/json declaration');
    }
    if (first.body.length > MAX_DECLARATION_BYTES) {
      throw new PlatformError('REQUEST_INVALID', `The declaration is larger than ${MAX_DECLARATION_BYTES} bytes`, { limitBytes: MAX_DECLARATION_BYTES });
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(first.body));
    } catch {
      throw new PlatformError('REQUEST_INVALID', 'The declaration is not valid JSON');
    }
    const declaration = uploadDeclarationSchema.safeParse(json);
    if (!declaration.success) {
      throw new PlatformError(
        'REQUEST_INVALID',
        `The declaration is invalid: ${declaration.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const { site, device, modality, bodyPart, view, patientAgeYears } = declaration.data;
    const result = await deps.services.uploadImages(
      {
        ...(site === undefined ? {} : { site }),
        ...(device === undefined ? {} : { device }),
        ...(modality === undefined ? {} : { modality }),
        ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
        ...(view === undefined ? {} : { viewPosition: view }),
        ...(patientAgeYears === undefined ? {} : { patientAgeYears }),
      },
      images.map((p) => p.body),
    );
    return reply.code(201).send(result);
  });
}
