import type { IncomingHttpHeaders } from 'node:http';
import { PlatformError } from '../domain/errors.js';
import { contentTypeParameters } from './internal/multipart-related.js';

/**
 * What one route accepts as a request body, declared with the route (`config.body`) next to its
 * access. A route that declares none accepts none. `createHttpApp` turns the declaration into the
 * route's Fastify `bodyLimit` (the stream is cut there, also without Content-Length) and checks the
 * headers in `onRequest`, after authentication and before a byte of the body is read: an undeclared
 * media type is 415, a Content-Length above the limit 413.
 */
export interface RouteBody {
  /** Media types the route parses: lower case, without parameters (`application/json`). */
  readonly mediaTypes: readonly string[];
  /** Largest body in bytes. */
  readonly limitBytes: number;
}

/**
 * The most a route open to anonymous callers may accept. Sign-in, the only public route with a
 * body, needs at most ~3 kB (a 64-character name and a 1024-character password); a few kB is all
 * an anonymous caller can make the server hold per request.
 */
export const PUBLIC_BODY_LIMIT_BYTES = 8 * 1024;

const JSON_MEDIA_TYPE = 'application/json';

/**
 * A JSON body validated by the route's zod schema. Size it from the schema: a string of n
 * characters is at most 6n bytes in JSON (`\uXXXX` escapes), plus names and punctuation.
 *
 * @example jsonBody(16 * 1024) // { findingPresent, imageQualityAdequate, agreesWithModel, comment ≤ 2000 chars }
 */
export function jsonBody(limitBytes: number): RouteBody {
  return { mediaTypes: [JSON_MEDIA_TYPE], limitBytes };
}

/**
 * What a route that acts (POST, PUT, PATCH, DELETE) and declares no body takes besides none: an empty
 * JSON object, `{}`, which many clients send for "no arguments". createHttpApp gives it to every such
 * route, with a schema that refuses anything else in it (400), so such a request is answered by what
 * the route does (404 for an unknown id, say), not 415. 64 bytes leave room for whitespace.
 */
export const EMPTY_OBJECT_BODY: RouteBody = jsonBody(64);

/** Whether a route of this method acts, so that it may take `{}` when it declares no body. */
export function isActionMethod(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

/** A `multipart/related` body (STOW-RS, device uploads), split by the route (internal/multipart-related.ts). */
export function multipartRelatedBody(limitBytes: number): RouteBody {
  return { mediaTypes: ['multipart/related'], limitBytes };
}

/** A device upload: `multipart/related` (declaration first) or `multipart/form-data` (what `curl -F` sends). */
export function uploadBody(limitBytes: number): RouteBody {
  return { mediaTypes: ['multipart/related', 'multipart/form-data'], limitBytes };
}

/** Whether the request carries content (RFC 9112 §6.3: a Transfer-Encoding, or a non-zero Content-Length). */
export function hasRequestContent(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}

/**
 * The refusal a request earns from its headers alone, before its body is read; undefined when the
 * body may be read (Fastify then stops reading at `limitBytes`). A request without content passes
 * whatever its Content-Type says (a client may label an empty POST as JSON).
 */
export function refuseBodyByHeaders(headers: IncomingHttpHeaders, body: RouteBody | undefined): PlatformError | undefined {
  if (!hasRequestContent(headers)) return undefined;
  if (body === undefined) return new PlatformError('INPUT_FORMAT_UNKNOWN', 'This route takes no request body');
  // A compressed body would be read as if it were not: refused, whatever the encoding (not quoted).
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '')
    return new PlatformError('INPUT_FORMAT_UNKNOWN', 'Request bodies are taken uncompressed: send it without Content-Encoding');
  const { mediaType } = contentTypeParameters(headers['content-type'] ?? '');
  if (!body.mediaTypes.includes(mediaType)) {
    return new PlatformError('INPUT_FORMAT_UNKNOWN', `This route takes ${body.mediaTypes.join(' or ')} only`);
  }
  const length = Number(headers['content-length'] ?? 0);
  if (length > body.limitBytes) return tooLarge(body.limitBytes);
  return undefined;
}

export function tooLarge(limitBytes: number): PlatformError {
  return new PlatformError('INPUT_TOO_LARGE', `The request body is larger than this route accepts (${limitBytes} bytes)`, { limitBytes });
}

/**
 * Registration-time rules (a route breaking one fails to register, like a route without access):
 * a public route accepts at most PUBLIC_BODY_LIMIT_BYTES; a route with a body schema declares JSON
 * and only JSON, so that schema validation never walks a Buffer; a body schema needs a body.
 */
export function checkRouteBodyDeclaration(route: {
  readonly name: string;
  readonly isPublic: boolean;
  readonly body: RouteBody | undefined;
  readonly hasBodySchema: boolean;
}): void {
  const { name, isPublic, body, hasBodySchema } = route;
  if (body === undefined) {
    if (hasBodySchema) throw new Error(`route ${name} has a body schema but declares no body (config.body)`);
    return;
  }
  if (!Number.isSafeInteger(body.limitBytes) || body.limitBytes < 1) throw new Error(`route ${name} declares a body limit that is not a positive integer`);
  if (body.mediaTypes.length === 0) throw new Error(`route ${name} declares a body of no media type`);
  if (isPublic && body.limitBytes > PUBLIC_BODY_LIMIT_BYTES) {
    throw new Error(`public route ${name} declares a body limit above ${PUBLIC_BODY_LIMIT_BYTES} bytes`);
  }
  if (hasBodySchema && body.mediaTypes.some((type) => type !== JSON_MEDIA_TYPE)) {
    throw new Error(`route ${name} validates its body with a schema, so it may declare only ${JSON_MEDIA_TYPE}`);
  }
}
