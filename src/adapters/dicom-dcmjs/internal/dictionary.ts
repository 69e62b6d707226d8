import { DicomMetaDictionary } from './libraries.js';
import { formatTag } from './dataset-scanner.js';

const cache = new Map<number, string | undefined>();

/** The VR as dcmjs's copy of PS3.6 writes it, ambiguous ones included ('ox', 'xs', 'lt', 'up'); undefined when unknown. */
function rawDictionaryVr(tag: number): string | undefined {
  if (cache.has(tag)) return cache.get(tag);
  const hex = formatTag(tag);
  const entry = DicomMetaDictionary.dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`];
  // Private and unknown tags are many and never repeat usefully; cache only what the dictionary knows.
  if (entry !== undefined) cache.set(tag, entry.vr);
  return entry?.vr;
}

/**
 * The VR the DICOM data dictionary (dcmjs's copy of PS3.6) gives a standard tag, for Implicit VR datasets.
 * The ambiguous VRs are resolved as dcmjs resolves them: "ox" (Pixel Data) as OW, "xs" as US.
 */
export function dictionaryVr(tag: number): string | undefined {
  const vr = rawDictionaryVr(tag);
  return vr === 'ox' ? 'OW' : vr === 'xs' ? 'US' : vr;
}

/**
 * The VR to decode a value of unknown VR with (sent as UN, or in Implicit VR), when that choice fixes what the
 * bytes mean: the dictionary's VR, "US or SS" read as US, "US or OW" as OW, "up" (a retired UL offset) as UL.
 * "OB or OW" stays 'ox': binary, but whether its bytes are words depends on Bits Allocated. Undefined for a
 * private or unknown tag and for the tags the dictionary itself gives UN.
 */
export function decodingVr(tag: number): string | undefined {
  if (((tag >>> 16) & 1) === 1) return undefined;
  const vr = rawDictionaryVr(tag);
  switch (vr) {
    case undefined:
    case 'na':
    case 'UN':
      return undefined;
    case 'xs':
      return 'US';
    case 'lt':
      return 'OW';
    case 'up':
      return 'UL';
    default:
      return vr;
  }
}
