import { DicomMetaDictionary } from './libraries.js';
import { formatTag } from './dataset-scanner.js';

const cache = new Map<number, string | undefined>();

/**
 * The VR the DICOM data dictionary (dcmjs's copy of PS3.6) gives a standard tag, for Implicit VR datasets.
 * The ambiguous VRs are resolved as dcmjs resolves them: "ox" (Pixel Data) as OW, "xs" as US.
 */
export function dictionaryVr(tag: number): string | undefined {
  if (cache.has(tag)) return cache.get(tag);
  const hex = formatTag(tag);
  const entry = DicomMetaDictionary.dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`];
  const vr = entry === undefined ? undefined : entry.vr === 'ox' ? 'OW' : entry.vr === 'xs' ? 'US' : entry.vr;
  // Private and unknown tags are many and never repeat usefully; cache only what the dictionary knows.
  if (entry !== undefined) cache.set(tag, vr);
  return vr;
}
