/**
 * JSON a person hands in (an answers file, a MONAI metadata.json), parsed only within bounds: nested
 * no deeper than `maxDepth` arrays and objects. The depth is measured on the text before JSON.parse
 * builds anything, so a 10,000-deep `[[[[…` is refused by a linear scan, not by a stack overflow or a
 * value the rest of the code must walk. (The size is bounded where the file is read, in bytes.)
 */
export type BoundedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

/** How deep the text's arrays and objects nest (strings skipped, escapes included); stops counting past `limit`. */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Parses JSON nested at most `maxDepth` deep.
 *
 * @example parseBoundedJson('{"a":[1]}', { maxDepth: 32 }) // { ok: true, value: { a: [1] } }
 */
export function parseBoundedJson(text: string, limits: { readonly maxDepth: number }): BoundedJson {
  if (jsonNestingDepth(text, limits.maxDepth) > limits.maxDepth) {
    return { ok: false, problem: `nests arrays and objects deeper than ${limits.maxDepth} levels, the most it may` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
}
