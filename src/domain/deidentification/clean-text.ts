/**
 * Text cleaning for action C on free text (Clean Descriptors, Clean Structured Content, the C entries of
 * Retain Patient Characteristics): removes from a description every identifier the same dataset holds in
 * an attribute the profile removes or replaces (names, IDs, accession numbers, institutions, dates…), and
 * anything shaped like a date, a time of day, a long number, an e-mail address or a phone number.
 * Removed text becomes '*'. This catches identifiers the dataset itself names; it cannot catch a name
 * that appears nowhere else (documented in docs/deidentification.md).
 */
const PATTERNS: readonly RegExp[] = [
  /[\w.+-]+@[\w-]+(\.[\w-]+)+/g, // e-mail
  /\b\d{4}[-./]\d{1,2}[-./]\d{1,4}\b/g, // dates with separators
  /\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b/g,
  /\+?\d[\d ()-]{6,}\d/g, // phone numbers, long IDs with separators
  /\d{5,}/g, // long digit runs (IDs, compact dates)
];

/** Tokens worth removing from other text: at least 3 characters and not a common word of one letter class. */
export function identifierTokens(values: Iterable<string>): Set<string> {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(/[\s^\\,;:/=()[\]"'-]+/)) {
      const t = token.replace(/^\.+|\.+$/g, '');
      if (t.length >= 3) tokens.add(t.toUpperCase());
    }
  }
  return tokens;
}

export function cleanText(text: string, tokens: ReadonlySet<string>): string {
  // Whole identifier tokens first (so that 'AB12345' goes as one), then the shapes.
  let out = text;
  if (tokens.size > 0) {
    out = out
      .split(/([\s^\\,;:/=()[\]"'-]+)/)
      .map((part) => (tokens.has(part.replace(/^\.+|\.+$/g, '').toUpperCase()) ? '*' : part))
      .join('');
  }
  for (const pattern of PATTERNS) out = out.replace(pattern, '*');
  return out;
}
