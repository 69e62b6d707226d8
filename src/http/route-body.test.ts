import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { checkRouteBodyDeclaration, jsonBody, multipartRelatedBody, PUBLIC_BODY_LIMIT_BYTES, refuseBodyByHeaders } from './route-body.js';

const codeOf = (headers: Record<string, string>, body = jsonBody(100)) => refuseBodyByHeaders(headers, body)?.code;

describe('refuseBodyByHeaders', () => {
  it('passes a request without content, whatever it is labelled', () => {
    expect(codeOf({})).toBeUndefined();
    expect(codeOf({ 'content-type': 'multipart/related; boundary=x', 'content-length': '0' })).toBeUndefined();
    expect(refuseBodyByHeaders({ 'content-type': 'text/plain' }, undefined)).toBeUndefined();
  });
  it('refuses content on a route that takes none (415), chunked or not', () => {
    expect(refuseBodyByHeaders({ 'content-type': 'application/json', 'content-length': '2' }, undefined)?.code).toBe('INPUT_FORMAT_UNKNOWN');
    expect(refuseBodyByHeaders({ 'transfer-encoding': 'chunked' }, undefined)?.code).toBe('INPUT_FORMAT_UNKNOWN');
  });
  it('refuses a compressed body (415) instead of reading it as if it were not, whatever the encoding; identity passes', () => {
    for (const encoding of ['gzip', 'deflate', 'br', 'GZIP', 'x-custom'])
      expect(codeOf({ 'content-type': 'application/json', 'content-length': '10', 'content-encoding': encoding }), encoding).toBe('INPUT_FORMAT_UNKNOWN');
    expect(codeOf({ 'content-type': 'application/json', 'content-length': '10', 'content-encoding': 'identity' })).toBeUndefined();
    expect(
      refuseBodyByHeaders({ 'content-type': 'application/json', 'content-length': '10', 'content-encoding': 'gzip' }, jsonBody(100))?.message,
    ).not.toContain('gzip');
  });
  it('refuses an undeclared media type (415) before its size (413), and reads the type case-insensitively without parameters', () => {
    expect(codeOf({ 'content-type': 'multipart/related; boundary=x', 'content-length': '999999' })).toBe('INPUT_FORMAT_UNKNOWN');
    expect(codeOf({ 'content-length': '5' }), 'no Content-Type').toBe('INPUT_FORMAT_UNKNOWN');
    expect(codeOf({ 'content-type': 'Application/JSON; charset=utf-8', 'content-length': '100' })).toBeUndefined();
    expect(codeOf({ 'content-type': 'application/json', 'content-length': '101' })).toBe('INPUT_TOO_LARGE');
    expect(codeOf({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), 'chunked: cut while read').toBeUndefined();
    expect(refuseBodyByHeaders({ 'content-type': 'multipart/related; boundary=x', 'content-length': '10' }, multipartRelatedBody(10))).toBeUndefined();
  });
  test.prop([fc.string({ maxLength: 40 }), fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 20 })])(
    'is 415 exactly when the type is not declared, else 413 exactly when the length is above the limit',
    (contentType, length, limit) => {
      const body = jsonBody(limit + 1);
      const code = refuseBodyByHeaders({ 'content-type': contentType, 'content-length': String(length) }, body)?.code;
      const declared = contentType.split(';')[0]?.trim().toLowerCase() === 'application/json';
      expect(code).toBe(length === 0 ? undefined : !declared ? 'INPUT_FORMAT_UNKNOWN' : length > limit + 1 ? 'INPUT_TOO_LARGE' : undefined);
    },
  );
});

describe('checkRouteBodyDeclaration', () => {
  const route = { name: 'POST /x', isPublic: false, body: jsonBody(1024), hasBodySchema: true };
  it('accepts the declarations the routes make', () => {
    expect(() => checkRouteBodyDeclaration(route)).not.toThrow();
    expect(() => checkRouteBodyDeclaration({ ...route, isPublic: true, body: jsonBody(PUBLIC_BODY_LIMIT_BYTES) })).not.toThrow();
    expect(() => checkRouteBodyDeclaration({ ...route, body: multipartRelatedBody(512 * 2 ** 20), hasBodySchema: false })).not.toThrow();
    expect(() => checkRouteBodyDeclaration({ ...route, body: undefined, hasBodySchema: false })).not.toThrow();
  });
  it('refuses a public route above the public limit, a schema over a non-JSON body, a schema without a body, and a limit that is not a positive integer', () => {
    expect(() => checkRouteBodyDeclaration({ ...route, isPublic: true, body: jsonBody(PUBLIC_BODY_LIMIT_BYTES + 1) })).toThrow(/public route/);
    expect(() => checkRouteBodyDeclaration({ ...route, body: multipartRelatedBody(1024) })).toThrow(/only application\/json/);
    expect(() => checkRouteBodyDeclaration({ ...route, body: { mediaTypes: ['application/json', 'multipart/related'], limitBytes: 10 } })).toThrow(
      /only application\/json/,
    );
    expect(() => checkRouteBodyDeclaration({ ...route, body: undefined })).toThrow(/declares no body/);
    expect(() => checkRouteBodyDeclaration({ ...route, body: jsonBody(0) })).toThrow(/positive integer/);
    expect(() => checkRouteBodyDeclaration({ ...route, body: { mediaTypes: [], limitBytes: 10 } })).toThrow(/no media type/);
  });
});
