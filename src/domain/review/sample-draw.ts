/**
 * The review sample's draw for a worklist item: a uniform number in [0, 1) from the hash of its id
 * (the first 48 bits of `sha256Hex`), so that a re-run samples the same items.
 */
export function reviewSampleDraw(itemId: string, sha256Hex: (text: string) => string): number {
  return Number.parseInt(sha256Hex(`review-sample:${itemId}`).slice(0, 12), 16) / 2 ** 48;
}
