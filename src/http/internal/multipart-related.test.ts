import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { contentTypeParameters, MAX_PART_HEADER_BYTES, parseMultipartRelated } from './multipart-related.js';

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
  it("bounds a part's header block, wherever its blank line is", () => {
    const part = (headerBytes: number) => {
      const header = `Content-Type: application/dicom\r\nX-Pad: ${'p'.repeat(headerBytes - 40)}`;
      return Buffer.from(`--b\r\n${header}\r\n\r\nbody\r\n--b--\r\n`, 'latin1');
    };
    expect(parseMultipartRelated(part(MAX_PART_HEADER_BYTES), 'b', 10)).toMatchObject({ ok: true });
    expect(parseMultipartRelated(part(MAX_PART_HEADER_BYTES + 1), 'b', 10)).toEqual({
      ok: false,
      reason: `a part's headers are longer than ${MAX_PART_HEADER_BYTES} bytes`,
    });
    // Megabytes of header lines without a blank line are not turned into a string.
    const endless = Buffer.from(`--b\r\n${'X-Pad: y\r\n'.repeat(800_000)}\r\nbody\r\n--b--\r\n`, 'latin1');
    expect(parseMultipartRelated(endless, 'b', 10)).toMatchObject({ ok: false, reason: expect.stringContaining('headers are longer') });
  });
  it('takes time linear in the body and stops counting parts at the bound', () => {
    const boundary = 'vigil-boundary-7f3a';
    // The adversarial fillers: near-misses of the delimiter, CRLFs, dashes, and empty parts.
    for (const filler of [`\r\n--${boundary.slice(0, -1)}`, '\r\n', '-', `\r\n--${boundary}\r\n\r\n`]) {
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\n\r\n`),
        Buffer.from(filler.repeat(Math.ceil((8 * 2 ** 20) / filler.length)), 'latin1'),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      // The best of three runs: the first pays for compiling the parser, and the machine may be busy.
      let ms = Infinity;
      let result = parseMultipartRelated(body, boundary, 10_000);
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        result = parseMultipartRelated(body, boundary, 10_000);
        ms = Math.min(ms, performance.now() - started);
      }
      // 2 to 80 ms here, the most for 10,000 empty parts; a search that rescanned the body per part would take minutes.
      expect(ms, JSON.stringify(filler)).toBeLessThan(1000);
      expect(result.ok || result.reason === 'more than 10000 parts').toBe(true);
    }
  });
});
