import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeValidationIssues } from './validation-issues.js';

// The shape of POST /api/releases/{id}/sign: a meaning, and a password or a token.
const meaning = z.enum(['reviewed', 'approved for release']);
const sign = z.object({
  body: z.union([z.strictObject({ meaning, password: z.string().min(1) }), z.strictObject({ meaning, token: z.string().min(1) })]),
});
const describe1 = (body: unknown, nameUnknownFields = false): string[] => {
  const result = sign.safeParse({ body });
  return result.success ? [] : describeValidationIssues(result.error.issues, { nameUnknownFields });
};

describe('describeValidationIssues', () => {
  it('answers a union with the closest alternative’s fields and expectations, not "(root): Invalid input"', () => {
    expect(describe1({ meaning: 'approved', password: 'x' })).toEqual(['body.meaning: Invalid option: expected one of "reviewed"|"approved for release"']);
    expect(describe1({ meaning: 'reviewed' })).toEqual([
      'body.password: Invalid input: expected string, received undefined or body.token: Invalid input: expected string, received undefined',
    ]);
    expect(describe1('a string')).toEqual(['body: Invalid input: expected object, received string']);
    // Both credentials: say to give one, naming them (the schema's own fields), not "an unknown field".
    expect(describe1({ meaning: 'reviewed', password: 'x', token: 'y' })).toEqual(['body: give either password or token, not both']);
    expect(describe1({ meaning: 'reviewed', password: 'x', token: 'y', candidateVersionId: 'z' })).toEqual([
      'body: give either password or token, not both',
      'body: an unknown field "candidateVersionId"',
    ]);
    // One form's fields with a made-up one: that alternative's unknown field, named.
    expect(describe1({ meaning: 'reviewed', password: 'x', pasword: 'y' })).toEqual(['body: an unknown field "pasword"']);
  });

  it('names each field of an ordinary issue by its path, `(root)` for the value itself; names unknown fields shaped like field names, counts the rest unless asked to name them', () => {
    const schema = z.strictObject({ a: z.object({ b: z.number() }) });
    const issues = schema.safeParse({ a: { b: 'x' }, candidateVersionId: 1, d: 2 }).error!.issues;
    expect(describeValidationIssues(issues)).toEqual([
      'a.b: Invalid input: expected number, received string',
      '(root): unknown fields "candidateVersionId", "d"',
    ]);
    // Free text as a key (it could be anything the sender typed) is counted, never repeated.
    const odd = schema.safeParse({ a: { b: 1 }, 'SMITH^JOHN': 1, 'two words': 2, ok: 3 }).error!.issues;
    expect(describeValidationIssues(odd)).toEqual(['(root): unknown fields "ok" and 2 more']);
    expect(describeValidationIssues(schema.safeParse({ a: { b: 1 }, 'SMITH^JOHN': 1 }).error!.issues)).toEqual(['(root): an unknown field']);
    expect(describeValidationIssues(odd, { nameUnknownFields: true })).toEqual(['(root): unknown fields "SMITH^JOHN", "two words", "ok"']);
    expect(describeValidationIssues(z.number().safeParse('x').error!.issues)).toEqual(['(root): Invalid input: expected number, received string']);
  });
});
