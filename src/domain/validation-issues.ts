/**
 * Validation issues (zod's, or the same issues as fastify-type-provider-zod hands them to the error
 * handler) as lines a person can act on: `field.path: expectation`. A union's issue is zod's bare
 * "Invalid input" at the union's path; the lines instead come from the alternative that came closest
 * (fewest issues), each with its field, so `{ meaning, password | token }` answers
 * `meaning: Invalid option: expected one of "reviewed"|"approved for release"` rather than
 * `(root): Invalid input`. When several alternatives come equally close, their lines are joined by "or".
 */
export interface ValidationIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** unrecognized_keys: the names. */
  readonly keys?: readonly string[];
  /** invalid_union: each alternative's issues, with paths relative to the union. */
  readonly errors?: readonly (readonly ValidationIssue[])[];
}

export interface DescribeOptions {
  /**
   * Whether an unknown field is named. Not for a request body: the names are the sender's text (they
   * could carry anything), so they are counted. A local file's reader benefits from the name.
   */
  readonly nameUnknownFields?: boolean;
}

/** One line per problem, `path: expectation` (`(root)` for the value itself). */
export function describeValidationIssues(issues: readonly ValidationIssue[], options: DescribeOptions = {}): string[] {
  return issues.flatMap((issue) => describeIssue(issue, [], options));
}

function describeIssue(issue: ValidationIssue, prefix: readonly PropertyKey[], options: DescribeOptions): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0) {
    const fewest = Math.min(...issue.errors.map((branch) => branch.length));
    const closest = issue.errors.filter((branch) => branch.length === fewest && fewest > 0);
    const alternatives = [...new Set(closest.map((branch) => branch.flatMap((i) => describeIssue(i, path, options)).join('; ')))];
    if (alternatives.length > 0) return [alternatives.join(' or ')];
  }
  const where = path.length === 0 ? '(root)' : path.map(String).join('.');
  if (issue.code === 'unrecognized_keys' && options.nameUnknownFields !== true) {
    const count = issue.keys?.length ?? 1;
    return [`${where}: ${count === 1 ? 'an unknown field' : `${count} unknown fields`}`];
  }
  return [`${where}: ${issue.message}`];
}
