import { CONFIDENTIALITY_PROFILE_ATTRIBUTES } from './confidentiality-profile-table.js';
import type { BasicAction, ProfileAttribute, ProfileOption } from './profile-attribute.js';

/** What is done to one element, after the combined codes and the options are resolved. */
export type ResolvedAction = 'X' | 'Z' | 'D' | 'U' | 'K' | 'C' | 'U*';

const EXACT = new Map<number, ProfileAttribute>();
const PATTERNS: { readonly mask: number; readonly value: number; readonly attribute: ProfileAttribute }[] = [];
let PRIVATE: ProfileAttribute | undefined;
for (const attribute of CONFIDENTIALITY_PROFILE_ATTRIBUTES) {
  if (attribute.tag === 'private') PRIVATE = attribute;
  else if (attribute.tag.includes('x')) {
    // 'x' digits are wildcards: (50xx,xxxx) curves and (60xx,eeee) overlays, PS3.5 7.6 repeating groups.
    const mask = parseInt(attribute.tag.replace(/[0-9a-f]/g, 'f').replace(/x/g, '0'), 16) >>> 0;
    const value = parseInt(attribute.tag.replace(/x/g, '0'), 16) >>> 0;
    PATTERNS.push({ mask, value, attribute });
  } else EXACT.set(parseInt(attribute.tag, 16) >>> 0, attribute);
}

export function isPrivateTag(tag: number): boolean {
  return ((tag >>> 16) & 1) === 1;
}

/** The Table E.1-1 row for a tag: exact, then repeating group, then the private row; undefined when not listed. */
export function findProfileAttribute(tag: number): ProfileAttribute | undefined {
  if (isPrivateTag(tag)) return PRIVATE;
  const exact = EXACT.get(tag);
  if (exact !== undefined) return exact;
  // Repeating groups are even groups 50xx/60xx (PS3.5 7.6); an odd group is private and handled above.
  for (const p of PATTERNS) if ((tag & p.mask) >>> 0 === p.value) return p.attribute;
  return undefined;
}

/**
 * The action for a listed attribute under the chosen options.
 *
 * Options: an option's K (retain) wins over another option's C (clean), which wins over the Basic Profile.
 * The Standard leaves the combination of several options to the implementation (E.3); retaining what the
 * user explicitly asked to retain and cleaning what was asked to be cleaned is the reading we chose.
 *
 * Combined codes (PS3.15 E.1.1, "the action that keeps the object valid for its IOD"): Vigil has no
 * per-IOD module tables, so it takes the choice that is valid for every IOD: X/Z → Z (a Type 2 attribute
 * must be present; an empty Type 3 is allowed), X/D, Z/D and X/Z/D → D (a Type 1 attribute needs a value),
 * X/Z/U* → U* (keep the sequence and replace the UIDs inside it; its other attributes follow the table).
 */
export function resolveAction(attribute: ProfileAttribute, options: ReadonlySet<ProfileOption>): ResolvedAction {
  let chosen: 'K' | 'C' | undefined;
  for (const option of options) {
    const action = attribute.options?.[option];
    if (action === 'K') chosen = 'K';
    else if (action === 'C' && chosen === undefined) chosen = 'C';
  }
  return chosen ?? resolveBasic(attribute.basic);
}

export function resolveBasic(basic: BasicAction): ResolvedAction {
  switch (basic) {
    case 'X':
    case 'Z':
    case 'D':
    case 'U':
    case 'K':
    case 'C':
      return basic;
    case 'X/Z':
      return 'Z';
    case 'X/D':
    case 'Z/D':
    case 'X/Z/D':
      return 'D';
    case 'X/Z/U*':
      return 'U*';
  }
}
