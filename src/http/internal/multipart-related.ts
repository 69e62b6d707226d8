/**
 * Splits a `multipart/related` body (RFC 2387, as STOW-RS uses it, PS3.18 §8.6.1.2) into its parts.
 * Written here because the well-kept multipart parsers for Node (busboy, @fastify/multipart) handle
 * only `multipart/form-data`; the format is small: parts between `--boundary` lines, each with
 * headers, a blank line, and a body that may hold any bytes.
 */
export interface RelatedPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type MultipartResult = { readonly ok: true; readonly parts: readonly RelatedPart[] } | { readonly ok: false; readonly reason: string };

/** The parameters of a Content-Type header value, lower-cased names, quotes removed. */
export function contentTypeParameters(contentType: string): { readonly mediaType: string; readonly params: Readonly<Record<string, string>> } {
  const [mediaType = '', ...rest] = contentType.split(';');
  const params: Record<string, string> = {};
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    const name = piece.slice(0, eq).trim().toLowerCase();
    let value = piece.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    params[name] = value;
  }
  return { mediaType: mediaType.trim().toLowerCase(), params };
}

export function parseMultipartRelated(body: Uint8Array, boundary: string, maxParts: number): MultipartResult {
  if (boundary.length === 0 || boundary.length > 70) return { ok: false, reason: 'the boundary parameter is missing or longer than 70 characters' };
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let position = buffer.indexOf(delimiter);
  if (position < 0) return { ok: false, reason: 'no part starts with the boundary' };
  const parts: RelatedPart[] = [];
  for (;;) {
    let cursor = position + delimiter.length;
    if (buffer[cursor] === 0x2d && buffer[cursor + 1] === 0x2d) return { ok: true, parts }; // "--": the close delimiter
    if (buffer[cursor] === 0x0d && buffer[cursor + 1] === 0x0a) cursor += 2;
    else return { ok: false, reason: 'a boundary line is not followed by CRLF' };
    // From the boundary line's own CRLF: a part with no header lines (RFC 2046 §5.1.1: all defaults)
    // starts with the blank line at once.
    const headerEnd = buffer.indexOf('\r\n\r\n', cursor - 2, 'latin1');
    if (headerEnd < 0) return { ok: false, reason: 'a part has no end of headers' };
    const headers: Record<string, string> = {};
    for (const line of buffer.toString('latin1', cursor, headerEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    const next = buffer.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), bodyStart);
    if (next < 0) return { ok: false, reason: 'the body ends before the close delimiter' };
    if (parts.length >= maxParts) return { ok: false, reason: `more than ${maxParts} parts` };
    parts.push({ headers, body: new Uint8Array(buffer.buffer, buffer.byteOffset + bodyStart, next - bodyStart) });
    position = next + 2;
  }
}
