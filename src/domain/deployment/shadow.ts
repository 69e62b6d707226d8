/** One image's outcome as shadow comparison reads it (a PredictResult has these fields). */
export interface JudgedOutcome {
  readonly input: { readonly file: string; readonly frame: number | null };
  readonly status: 'decided' | 'rejected' | 'error';
  readonly outputs: readonly { readonly finding: string; readonly decision: 'positive' | 'negative' | 'refer' }[];
}

/**
 * How far a shadow candidate agreed with production on the same study: of the images both judged
 * (matched by file and frame; an image either could not read is not compared), those with the same
 * status and the same decision for every finding. Probabilities are not compared: agreement is about
 * what would have been done.
 */
export function shadowAgreement(production: readonly JudgedOutcome[], shadow: readonly JudgedOutcome[]): { images: number; agreedImages: number } {
  const key = (o: JudgedOutcome): string => `${o.input.file}\u0000${o.input.frame ?? ''}`;
  const theirs = new Map(shadow.filter((o) => o.status !== 'error').map((o) => [key(o), o]));
  let images = 0;
  let agreedImages = 0;
  for (const ours of production) {
    if (ours.status === 'error') continue;
    const other = theirs.get(key(ours));
    if (other === undefined) continue;
    images++;
    const decisions = (o: JudgedOutcome): string =>
      o.outputs
        .map((x) => `${x.finding}=${x.decision}`)
        .sort()
        .join(',');
    if (other.status === ours.status && decisions(other) === decisions(ours)) agreedImages++;
  }
  return { images, agreedImages };
}
