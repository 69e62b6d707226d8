import { PlatformError, type ErrorCode } from './errors.js';

/**
 * The rule for an id given whole or as a prefix (`vigil model card 3f2a9c1b`, `vigil release show
 * r-5d1e0a7c`), one for every kind of id: a prefix names the one id that starts with it; none is
 * `code` "No … has this id", several is `code` "Several … start with this prefix" with
 * `details.matches`, so the caller gives more of the id. `matching` are the ids found starting with
 * the prefix (a store may stop at two: more than one is all the rule needs).
 *
 * @example pickUniqueId(await store.idsStartingWith(prefix, 2), { code: 'RELEASE_NOT_FOUND', noun: 'release request' })
 */
export function pickUniqueId(matching: readonly string[], what: { readonly code: ErrorCode; readonly noun: string }): string {
  const [only] = matching;
  if (matching.length === 1 && only !== undefined) return only;
  throw new PlatformError(
    what.code,
    matching.length === 0 ? `No ${what.noun} has this id` : `Several ${what.noun}s start with this prefix: give more of the id`,
    { matches: matching.length },
  );
}
