/**
 * Validation issues (zod's, or the same issues as fastify-type-provider-zod hands them to the error
 * handler) as lines a person can act on: `field.path: expectation`. A union's issue is zod's bare
 * "Invalid input" at the union's path; the lines instead come from the alternative that came closest
 * (fewest issues), each with its field, so `{ meaning, password | token }` answers
 * `meaning: Invalid option: expected one of "reviewed"|"approved for release"` rather than
 * `(root): Invalid input`. When several alternatives come equally close, their lines are joined by "or";
 * when each fails only by a field another accepts (`password` and `token` both sent), the line says to
 * give one of them: `give either password or token, not both`.
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
   * Whether every unknown field is named. By default (a request body) only a name that looks like a
   * field — a plain identifier of at most 64 characters, as `candidateVersionId` — is named, so the
   * sender sees which of its fields is wrong; anything else is the sender's text (it could carry
   * anything) and is counted. A local file's reader benefits from every name.
   */
  readonly nameUnknownFields?: boolean;
}

/** A name safe to repeat: shaped like a field name, not like free text (no spaces, `^`, punctuation). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** One line per problem, `path: expectation` (`(root)` for the value itself). */
export function describeValidationIssues(issues: readonly ValidationIssue[], options: DescribeOptions = {}): string[] {
  return issues.flatMap((issue) => describeIssue(issue, [], options));
}

function describeIssue(issue: ValidationIssue, prefix: readonly PropertyKey[], options: DescribeOptions): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0) {
    const fewest = Math.min(...issue.errors.map((branch) => branch.length));
    const closest = issue.errors.filter((branch) => branch.length === fewest && fewest > 0);
    const exclusive = describeExclusiveFields(issue.errors, path, options);
    if (exclusive !== undefined) return exclusive;
    const alternatives = [...new Set(closest.map((branch) => branch.flatMap((i) => describeIssue(i, path, options)).join('; ')))];
    if (alternatives.length > 0) return [alternatives.join(' or ')];
  }
  const where = path.length === 0 ? '(root)' : path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return [`${where}: ${describeUnknownFields(issue.keys ?? [], options)}`];
  return [`${where}: ${issue.message}`];
}

/** `an unknown field "x"`, `unknown fields "x", "y" and 2 more` (the 2 not shaped like field names). */
function describeUnknownFields(keys: readonly string[], options: DescribeOptions): string {
  if (keys.length === 0) return 'an unknown field';
  const named = keys.filter((k) => options.nameUnknownFields === true || FIELD_NAME.test(k)).map((k) => JSON.stringify(k));
  const unnamed = keys.length - named.length;
  const list = named.length === 0 ? '' : ` ${named.join(', ')}${unnamed > 0 ? ` and ${unnamed} more` : ''}`;
  if (keys.length === 1) return `an unknown field${list}`;
  return named.length === 0 ? `${keys.length} unknown fields` : `unknown fields${list}`;
}

/**
 * A union of strict objects given fields of two of its alternatives at once (`{ password, token }`
 * for `{ password } | { token }`): every alternative fails only by unknown fields at the union's
 * level, and each accepts some field that the others refuse. Those fields come from the schema's own
 * alternatives, so they are named: `give either password or token, not both`; fields no
 * alternative knows follow as unknown fields. Undefined when the union failed otherwise.
 */
function describeExclusiveFields(
  branches: readonly (readonly ValidationIssue[])[],
  path: readonly PropertyKey[],
  options: DescribeOptions,
): string[] | undefined {
  if (branches.length < 2) return undefined;
  const refused = branches.map((branch) =>
    branch.every((i) => i.code === 'unrecognized_keys' && i.path.length === 0) ? new Set(branch.flatMap((i) => i.keys ?? [])) : undefined,
  );
  if (refused.some((keys) => keys === undefined)) return undefined;
  const sets = refused as Set<string>[];
  const all = [...new Set(sets.flatMap((keys) => [...keys]))];
  const accepted = sets.map((keys) => all.filter((k) => !keys.has(k)));
  if (accepted.some((keys) => keys.length === 0)) return undefined;
  const where = path.length === 0 ? '(root)' : path.map(String).join('.');
  const lines = [`${where}: give either ${accepted.map((keys) => keys.join(' and ')).join(' or ')}, not both`];
  const unknownToAll = all.filter((k) => sets.every((keys) => keys.has(k)));
  if (unknownToAll.length > 0) lines.push(`${where}: ${describeUnknownFields(unknownToAll, options)}`);
  return lines;
}
