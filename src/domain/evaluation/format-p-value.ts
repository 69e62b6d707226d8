/**
 * A p-value as a reader should see it: three significant digits down to 0.001 ("0.0272"), then
 * scientific notation with two ("5.7e-33"), never a rounded "0.000". A p-value below the smallest
 * double (1e-323) is printed from its base-10 logarithm, so it still reads as a number ("3.2e-412").
 *
 * @example formatPValue(5.7e-33) === '5.7e-33'
 */
export function formatPValue(p: number, log10?: number): string {
  if (Number.isNaN(p)) return 'not available';
  if (p >= 0.001) return String(Number(p.toPrecision(3)));
  if (p > 0) return p.toExponential(1);
  if (log10 === undefined || !Number.isFinite(log10)) return '0';
  let exponent = Math.floor(log10);
  let mantissa = Number((10 ** (log10 - exponent)).toFixed(1));
  if (mantissa >= 10) {
    mantissa = 1;
    exponent += 1;
  }
  return `${mantissa.toFixed(1)}e${exponent}`;
}
