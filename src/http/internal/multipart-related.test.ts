import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { contentTypeParameters, parseMultipartRelated } from './multipart-related.js';

function build(parts: readonly Uint8Array[], boundary: string): Uint8Array {
  const chunks: Buffer[] = [];
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(part), Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

describe('parseMultipartRelated', () => {
  it('reads the parameters of a STOW-RS content type', () => {
    expect(contentTypeParameters('multipart/related; type="application/dicom"; boundary=abc123')).toEqual({
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'abc123' },
    });
  });
  test.prop([fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 })])('returns each part byte for byte, whatever the bytes', (parts) => {
    const boundary = 'vigil-boundary-7f3a';
    const result = parseMultipartRelated(build(parts, boundary), boundary, 100);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.parts.map((p) => Array.from(p.body))).toEqual(parts.map((p) => Array.from(p)));
      for (const p of result.parts) expect(p.headers['content-type']).toBe('application/dicom');
    }
  });
  it('reads a part without header lines, and an empty one, with all defaults (RFC 2046 §5.1.1)', () => {
    const body = Buffer.from('--b\r\n\r\nDICM bytes\r\n--b\r\n\r\n\r\n--b--\r\n', 'latin1');
    const result = parseMultipartRelated(body, 'b', 10);
    expect(result.ok && result.parts.map((p) => [p.headers, Buffer.from(p.body).toString('latin1')])).toEqual([
      [{}, 'DICM bytes'],
      [{}, ''],
    ]);
  });
  it('refuses truncated bodies, missing boundaries and too many parts', () => {
    const body = build([new Uint8Array([1, 2, 3]), new Uint8Array([4])], 'b');
    expect(parseMultipartRelated(body.subarray(0, body.length - 8), 'b', 10)).toMatchObject({ ok: false });
    expect(parseMultipartRelated(body, 'other', 10)).toMatchObject({ ok: false });
    expect(parseMultipartRelated(body, 'b', 1)).toMatchObject({ ok: false, reason: 'more than 1 parts' });
    expect(parseMultipartRelated(body, '', 10)).toMatchObject({ ok: false });
  });
});
