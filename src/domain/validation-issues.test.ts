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
    expect(describe1({ meaning: 'reviewed', password: 'x', token: 'y' })).toEqual(['body: an unknown field']);
    expect(describe1({ meaning: 'reviewed', password: 'x', token: 'y' }, true)).toEqual([
      'body: Unrecognized key: "token" or body: Unrecognized key: "password"',
    ]);
  });

  it('names each field of an ordinary issue by its path, `(root)` for the value itself, and counts unknown fields unless asked to name them', () => {
    const schema = z.strictObject({ a: z.object({ b: z.number() }) });
    const issues = schema.safeParse({ a: { b: 'x' }, c: 1, d: 2 }).error!.issues;
    expect(describeValidationIssues(issues)).toEqual(['a.b: Invalid input: expected number, received string', '(root): 2 unknown fields']);
    expect(describeValidationIssues(z.number().safeParse('x').error!.issues)).toEqual(['(root): Invalid input: expected number, received string']);
  });
});
