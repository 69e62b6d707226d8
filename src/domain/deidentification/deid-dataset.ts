/**
 * The dataset as the de-identifier sees it: elements in tag order, text values as decoded by the adapter
 * (one character per byte, so that a value the rules keep is written back byte for byte whatever its
 * character set), every other value as opaque bytes in the file's byte order, sequences as items.
 *
 * A value sent with VR UN, or in Implicit VR, is decoded by the adapter with the VR the data dictionary gives
 * its tag (PS3.5 6.2.2), so a sequence sent as UN arrives here as a sequence. A public element the adapter
 * cannot decode (a tag the dictionary does not know, a value that does not parse as its dictionary VR, a
 * sequence sent with a VR that is neither SQ nor UN) arrives as `uninspectable`: the rules cannot be applied
 * to what cannot be read, so the de-identifier removes it, whatever the profile says about its tag. Private
 * elements of unknown VR stay `bytes` with VR UN; the safe-private list says what they must parse as.
 */
export type DeidValue =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'bytes';
      readonly bytes: Uint8Array;
      /** Encapsulated Pixel Data: items and delimiter, written back verbatim. */ readonly encapsulated?: boolean;
    }
  | { readonly kind: 'sequence'; readonly items: readonly DeidDataset[] }
  | { readonly kind: 'uninspectable' };

export interface DeidElement {
  /** (group << 16 | element), unsigned. */
  readonly tag: number;
  readonly vr: string;
  readonly value: DeidValue;
}

export type DeidDataset = readonly DeidElement[];

/** PS3.5 Table 6.2-1: VRs whose values are character strings (multiple values split by a backslash). */
export const TEXT_VRS: ReadonlySet<string> = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

export function textOf(dataset: DeidDataset, tag: number): string | undefined {
  const element = dataset.find((e) => e.tag === tag);
  return element?.value.kind === 'text' ? element.value.text.replace(/[\0 ]+$/, '').replace(/^ +/, '') : undefined;
}

export const DEID_TAG = {
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  Modality: 0x00080060,
  Manufacturer: 0x00080070,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
  ManufacturerModelName: 0x00081090,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  PatientIdentityRemoved: 0x00120062,
  DeidentificationMethod: 0x00120063,
  DeidentificationMethodCodeSequence: 0x00120064,
  StudyInstanceUID: 0x0020000d,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BurnedInAnnotation: 0x00280301,
  LongitudinalTemporalInformationModified: 0x00280303,
  PixelData: 0x7fe00010,
} as const;
