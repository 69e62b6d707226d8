/**
 * Transfer syntaxes the reader accepts (PS3.5 Section 8 and Annex A; PS3.6 Table A-1). Anything else is
 * DICOM_TRANSFER_SYNTAX_UNSUPPORTED, including JPEG 2000 Part 2 multi-component (.4.92/.4.93), JPEG XL
 * (.4.110–.4.112: dcmjs-codecs has a decoder, but there is no sample, no independent oracle here and no
 * cheap header check to bound what it allocates), MPEG/HEVC video and the retired syntaxes.
 */
export type PixelEncoding = 'native' | 'encapsulated-native' | 'rle' | 'jpeg' | 'jpeg-ls' | 'jpeg2000' | 'htj2k';

export interface TransferSyntax {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
  readonly deflated: boolean;
  readonly encoding: PixelEncoding;
  /** The syntax itself implies lossy compression (the contract's "or a lossy syntax"). */
  readonly lossy: boolean;
}

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

const native = (explicitVR: boolean, littleEndian: boolean, deflated = false): TransferSyntax => ({
  explicitVR,
  littleEndian,
  deflated,
  encoding: 'native',
  lossy: false,
});
const encapsulated = (encoding: PixelEncoding, lossy: boolean): TransferSyntax => ({ explicitVR: true, littleEndian: true, deflated: false, encoding, lossy });

const SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map<string, TransferSyntax>([
  [IMPLICIT_VR_LITTLE_ENDIAN, native(false, true)],
  [EXPLICIT_VR_LITTLE_ENDIAN, native(true, true)],
  ['1.2.840.10008.1.2.1.99', native(true, true, true)], // Deflated Explicit VR Little Endian
  [EXPLICIT_VR_BIG_ENDIAN, native(true, false)], // retired, still received
  ['1.2.840.10008.1.2.1.98', encapsulated('encapsulated-native', false)], // Encapsulated Uncompressed Explicit VR LE
  ['1.2.840.10008.1.2.5', encapsulated('rle', false)],
  ['1.2.840.10008.1.2.4.50', encapsulated('jpeg', true)], // Baseline (Process 1)
  ['1.2.840.10008.1.2.4.51', encapsulated('jpeg', true)], // Extended (Process 2 & 4), 12-bit
  ['1.2.840.10008.1.2.4.57', encapsulated('jpeg', false)], // Lossless, Non-Hierarchical (Process 14)
  ['1.2.840.10008.1.2.4.70', encapsulated('jpeg', false)], // Lossless, Process 14, Selection Value 1
  ['1.2.840.10008.1.2.4.80', encapsulated('jpeg-ls', false)],
  ['1.2.840.10008.1.2.4.81', encapsulated('jpeg-ls', true)], // near-lossless
  ['1.2.840.10008.1.2.4.90', encapsulated('jpeg2000', false)],
  ['1.2.840.10008.1.2.4.91', encapsulated('jpeg2000', true)], // "lossless or lossy": treated as lossy
  ['1.2.840.10008.1.2.4.201', encapsulated('htj2k', false)],
  ['1.2.840.10008.1.2.4.202', encapsulated('htj2k', false)], // RPCL options, lossless
  ['1.2.840.10008.1.2.4.203', encapsulated('htj2k', true)], // "lossless or lossy": treated as lossy
]);

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return SYNTAXES.get(uid);
}

/** The dcmjs syntax string that reads elements encoded like `syntax` (dcmjs knows only these three). */
export function dcmjsSyntaxOf(syntax: { readonly explicitVR: boolean; readonly littleEndian: boolean }): string {
  if (!syntax.explicitVR) return IMPLICIT_VR_LITTLE_ENDIAN;
  return syntax.littleEndian ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN;
}
