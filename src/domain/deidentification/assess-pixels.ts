/**
 * Burned-in identity (PS3.15 E.3.1, Clean Pixel Data Option). Vigil cannot read text in pixels, so it does
 * not guess: an image that may carry burned-in identity is released only when a Clean Pixel Data rule
 * matches it, and otherwise quarantined. Rules are data, in the style of RSNA CTP's DicomPixelAnonymizer
 * scripts: match on Modality, Manufacturer, Manufacturer's Model Name, Rows, Columns (and optionally SOP
 * Class UID), then blank the listed rectangles. A rule with no rectangles declares a device's images free of
 * burned-in text: a site's explicit, reviewable decision.
 */
import { z } from 'zod';
import { PlatformError } from '../errors.js';
import { DEID_TAG, textOf, type DeidDataset } from './deid-dataset.js';

const rectangleSchema = z.strictObject({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  match: z
    .strictObject({
      modality: z.string().min(1).optional(),
      manufacturer: z.string().min(1).optional(),
      manufacturerModelName: z.string().min(1).optional(),
      sopClassUid: z.string().min(1).optional(),
      rows: z.number().int().positive().optional(),
      columns: z.number().int().positive().optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'a rule must match on at least one attribute'),
  rectangles: z.array(rectangleSchema),
});

const rulesFileSchema = z.strictObject({ rules: z.array(ruleSchema) });

export type PixelRectangle = z.infer<typeof rectangleSchema>;
export type PixelRule = z.infer<typeof ruleSchema>;

/** Parses a rules file's JSON; the error names the field, never a value. */
export function parsePixelRules(json: unknown): readonly PixelRule[] {
  const parsed = rulesFileSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new PlatformError('DEID_PIXEL_RULE_INVALID', `Invalid pixel rules: ${where}`, { problems: parsed.error.issues.length });
  }
  return parsed.data.rules;
}

/** PS3.4 B.5: the Secondary Capture family, where burned-in text is the norm. */
const SECONDARY_CAPTURE_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.7',
  '1.2.840.10008.5.1.4.1.1.7.1',
  '1.2.840.10008.5.1.4.1.1.7.2',
  '1.2.840.10008.5.1.4.1.1.7.3',
  '1.2.840.10008.5.1.4.1.1.7.4',
]);
/** Modalities where text in the image is common: ultrasound, secondary capture, external camera photography. */
const BURNED_IN_MODALITIES = new Set(['US', 'SC', 'XC']);

export type PixelVerdict =
  { readonly kind: 'release' } | { readonly kind: 'clean'; readonly rule: PixelRule } | { readonly kind: 'quarantine'; readonly reasons: readonly string[] };

/** Reasons a dataset may carry burned-in identity (empty when none is known). */
export function burnedInRisks(dataset: DeidDataset): string[] {
  const reasons: string[] = [];
  if (!dataset.some((e) => e.tag === DEID_TAG.PixelData)) return reasons;
  if ((textOf(dataset, DEID_TAG.BurnedInAnnotation) ?? '').toUpperCase() === 'YES') reasons.push('burned-in-annotation-yes');
  const modality = (textOf(dataset, DEID_TAG.Modality) ?? '').toUpperCase();
  if (BURNED_IN_MODALITIES.has(modality)) reasons.push(`modality-${modality.toLowerCase()}-burned-in-common`);
  if (SECONDARY_CAPTURE_SOP_CLASSES.has(textOf(dataset, DEID_TAG.SOPClassUID) ?? '')) reasons.push('secondary-capture-sop-class');
  return reasons;
}

/**
 * The same reasons from attributes already read (an image that is stored and has pixels): what the
 * review screen warns about, since ingest de-identifies headers only (ports/dicom-deidentifier.ts).
 */
export function burnedInRisksOf(attributes: { readonly burnedInAnnotation?: string; readonly modality?: string; readonly sopClassUid?: string }): string[] {
  const reasons: string[] = [];
  if ((attributes.burnedInAnnotation ?? '').toUpperCase() === 'YES') reasons.push('burned-in-annotation-yes');
  const modality = (attributes.modality ?? '').toUpperCase();
  if (BURNED_IN_MODALITIES.has(modality)) reasons.push(`modality-${modality.toLowerCase()}-burned-in-common`);
  if (SECONDARY_CAPTURE_SOP_CLASSES.has(attributes.sopClassUid ?? '')) reasons.push('secondary-capture-sop-class');
  return reasons;
}

export function findPixelRule(dataset: DeidDataset, rules: readonly PixelRule[], littleEndian = true): PixelRule | undefined {
  const text = (tag: number): string => (textOf(dataset, tag) ?? '').trim().toUpperCase();
  const number = (tag: number): number | undefined => {
    const e = dataset.find((x) => x.tag === tag);
    if (e?.value.kind !== 'bytes' || e.value.bytes.length < 2) return undefined;
    // Rows/Columns are US; the adapter hands numeric values over in little-endian order for these two.
    const [a = 0, b = 0] = e.value.bytes;
    return littleEndian ? a | (b << 8) : (a << 8) | b;
  };
  return rules.find((rule) => {
    const m = rule.match;
    return (
      (m.modality === undefined || m.modality.toUpperCase() === text(DEID_TAG.Modality)) &&
      (m.manufacturer === undefined || m.manufacturer.toUpperCase() === text(DEID_TAG.Manufacturer)) &&
      (m.manufacturerModelName === undefined || m.manufacturerModelName.toUpperCase() === text(DEID_TAG.ManufacturerModelName)) &&
      (m.sopClassUid === undefined || m.sopClassUid === text(DEID_TAG.SOPClassUID)) &&
      (m.rows === undefined || m.rows === number(DEID_TAG.Rows)) &&
      (m.columns === undefined || m.columns === number(DEID_TAG.Columns))
    );
  });
}

/**
 * What to do with the pixels. With the Clean Pixel Data option, a matching rule cleans (or, with no
 * rectangles, releases); without a matching rule, a risky image is quarantined, with or without the option.
 */
export function assessPixels(dataset: DeidDataset, rules: readonly PixelRule[], cleanPixelData: boolean, littleEndian = true): PixelVerdict {
  const risks = burnedInRisks(dataset);
  const rule = cleanPixelData ? findPixelRule(dataset, rules, littleEndian) : undefined;
  if (rule !== undefined) return rule.rectangles.length > 0 ? { kind: 'clean', rule } : { kind: 'release' };
  if (risks.length === 0) return { kind: 'release' };
  return { kind: 'quarantine', reasons: cleanPixelData ? [...risks, 'no-matching-pixel-rule'] : [...risks, 'clean-pixel-data-option-not-chosen'] };
}
