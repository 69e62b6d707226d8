import type { FindingPolicyBody } from '../api/types.js';
import { formatPercent } from '../format.js';

/** What the scale shows of a finding's decision policy, as the model manifest states it (decisionPolicy.<finding>). */
export type FindingPolicy = Pick<FindingPolicyBody, 'threshold' | 'abstainBand'>;

/**
 * The calibrated probability on a 0–100 % scale, with the policy's threshold and the abstain band in
 * which the model refers to a human: the reader sees how close the call was.
 */
export function ProbabilityScale({
  probability,
  shown,
  policy,
}: {
  readonly probability: number;
  /** The probability as text, at the precision the model's calibration supports. */
  readonly shown: string;
  readonly policy: FindingPolicy | undefined;
}) {
  const at = (p: number) => `${Math.min(100, Math.max(0, p * 100))}%`;
  const band = policy?.abstainBand;
  const label = [
    `Probability ${shown}`,
    policy === undefined ? '' : `; threshold ${formatPercent(policy.threshold)}`,
    band === undefined ? '' : `; refer band ${formatPercent(band.low)} to ${formatPercent(band.high)}`,
  ].join('');
  return (
    <div className="scale" role="img" aria-label={label}>
      <div className="scale-track">
        {band === undefined ? null : <div className="scale-band" style={{ left: at(band.low), width: `calc(${at(band.high)} - ${at(band.low)})` }} />}
        {policy === undefined ? null : <div className="scale-threshold" style={{ left: at(policy.threshold) }} />}
        {Number.isFinite(probability) ? <div className="scale-marker" style={{ left: at(probability) }} /> : null}
      </div>
      <div className="scale-legend" aria-hidden="true">
        <span>0 %</span>
        {policy === undefined ? null : (
          <span>
            <span className="key key-threshold" /> threshold {formatPercent(policy.threshold)}
            {band === undefined ? null : (
              <>
                {' '}
                <span className="key key-band" /> refer band
              </>
            )}
          </span>
        )}
        <span>100 %</span>
      </div>
    </div>
  );
}
