/**
 * PS3.15 Annex E: the Basic Application Level Confidentiality Profile and its options, applied to one
 * dataset, recursively. Pure: the keyed digest (site secret) comes in as a function, the bytes are read
 * and written by an adapter.
 */
import { PlatformError } from '../errors.js';
import { cleanText, identifierTokens } from './clean-text.js';
import { isDirectoryElement } from './directory-objects.js';
import { DEID_TAG, TEXT_VRS, textOf, type DeidDataset, type DeidElement, type DeidValue } from './deid-dataset.js';
import { dateOffsetDays, isPseudonymToken, keyFingerprint, pseudonymToken, remapUid, shiftDate, shiftDateTime, type KeyedDigest } from './keyed-pseudonyms.js';
import type { ProfileOption } from './profile-attribute.js';
import { findProfileAttribute, isPrivateTag, resolveAction, type ResolvedAction } from './resolve-action.js';
import { findSafePrivate, hasSafeValue } from './safe-private-tags.js';

export interface DeidProfile {
  readonly name: 'basic';
  readonly options: ReadonlySet<ProfileOption>;
}

export interface ActionCounts {
  removed: number;
  emptied: number;
  replaced: number;
  shifted: number;
  kept: number;
}

export interface DeidentifyOptions {
  readonly profile: DeidProfile;
  readonly digest: KeyedDigest;
  /** Set when a Clean Pixel Data rule blanked the pixels: Burned In Annotation becomes NO. */
  readonly pixelsCleaned?: boolean;
}

export interface DeidentifiedDataset {
  readonly dataset: DeidDataset;
  readonly counts: ActionCounts;
  /** The replacement SOP Instance UID (for the file meta group and the output file name). */
  readonly sopInstanceUid: string | undefined;
  readonly studyInstanceUid: string | undefined;
}

/** PS3.16 CID 7050 "De-identification Method" codes (scheme DCM), one per profile and option. */
export const DEID_METHOD_CODES: Readonly<Record<'basic' | ProfileOption, readonly [string, string]>> = {
  basic: ['113100', 'Basic Application Confidentiality Profile'],
  'clean-pixel-data': ['113101', 'Clean Pixel Data Option'],
  'clean-graphics': ['113103', 'Clean Graphics Option'],
  'clean-structured-content': ['113104', 'Clean Structured Content Option'],
  'clean-descriptors': ['113105', 'Clean Descriptors Option'],
  'retain-longitudinal-full-dates': ['113106', 'Retain Longitudinal Temporal Information Full Dates Option'],
  'retain-longitudinal-modified-dates': ['113107', 'Retain Longitudinal Temporal Information Modified Dates Option'],
  'retain-patient-characteristics': ['113108', 'Retain Patient Characteristics Option'],
  'retain-device-identity': ['113109', 'Retain Device Identity Option'],
  'retain-uids': ['113110', 'Retain UIDs Option'],
  'retain-safe-private': ['113111', 'Retain Safe Private Option'],
  'retain-institution-identity': ['113112', 'Retain Institution Identity Option'],
};

export const DEID_METHOD_NAME = 'VIGIL DEID 1';

/** Maximum value lengths of the string VRs (PS3.5 Table 6.2-1) that pseudonyms must fit. */
const MAX_LENGTH: Readonly<Record<string, number>> = { AE: 16, CS: 16, SH: 16, LO: 64, PN: 64, UC: 64, LT: 64, ST: 64, UT: 64 };

const DUMMY: Readonly<Record<string, string>> = { DA: '19000101', DT: '19000101000000', TM: '000000', DS: '0', IS: '0', AS: '000Y' };

/** Attributes Vigil writes itself at the top level (replacing any the input carries). */
const STAMPED = new Set<number>([
  DEID_TAG.PatientIdentityRemoved,
  DEID_TAG.DeidentificationMethod,
  DEID_TAG.DeidentificationMethodCodeSequence,
  DEID_TAG.LongitudinalTemporalInformationModified,
]);

export function validateProfile(options: ReadonlySet<ProfileOption>): void {
  if (options.has('retain-longitudinal-full-dates') && options.has('retain-longitudinal-modified-dates')) {
    throw new PlatformError('DEID_PROFILE_INVALID', 'Retain Longitudinal Temporal Information: choose full dates or modified dates, not both', {});
  }
}

/**
 * De-identifies one dataset (not the file meta group).
 *
 * Twice equals once: every replacement is keyed and recognisable (see keyed-pseudonyms.ts), removals and
 * emptyings are final, dummies are fixed values, and an input this site already de-identified (Patient
 * Identity Removed YES and our key fingerprint in De-identification Method) has its dates left as they are.
 * So deidentify(deidentify(x)) = deidentify(x) with the same secret and options.
 *
 * @example deidentifyDataset(dataset, { profile: { name: 'basic', options: new Set(['retain-device-identity']) }, digest })
 */
export function deidentifyDataset(dataset: DeidDataset, options: DeidentifyOptions): DeidentifiedDataset {
  validateProfile(options.profile.options);
  return new Deidentifier(dataset, options).run();
}

class Deidentifier {
  readonly counts: ActionCounts = { removed: 0, emptied: 0, replaced: 0, shifted: 0, kept: 0 };
  readonly #options: ReadonlySet<ProfileOption>;
  readonly #digest: KeyedDigest;
  readonly #patientKey: string;
  readonly #offsetDays: number;
  readonly #alreadyOurs: boolean;
  readonly #fingerprint: string;
  #tokens: Set<string> | undefined;

  constructor(
    readonly input: DeidDataset,
    readonly settings: DeidentifyOptions,
  ) {
    this.#options = settings.profile.options;
    this.#digest = settings.digest;
    this.#patientKey = textOf(input, DEID_TAG.PatientID) || textOf(input, DEID_TAG.PatientName) || '';
    this.#offsetDays = dateOffsetDays(this.#digest, this.#patientKey);
    this.#fingerprint = keyFingerprint(this.#digest);
    this.#alreadyOurs =
      textOf(input, DEID_TAG.PatientIdentityRemoved) === 'YES' && (textOf(input, DEID_TAG.DeidentificationMethod) ?? '').includes(`KEY ${this.#fingerprint}`);
  }

  run(): DeidentifiedDataset {
    const body = this.#dataset(
      this.input.filter((e) => !STAMPED.has(e.tag)),
      false,
    );
    const stamped = this.#stamp(body);
    return {
      dataset: stamped,
      counts: this.counts,
      sopInstanceUid: textOf(stamped, DEID_TAG.SOPInstanceUID),
      studyInstanceUid: textOf(stamped, DEID_TAG.StudyInstanceUID),
    };
  }

  #dataset(dataset: DeidDataset, clean: boolean): DeidElement[] {
    const out: DeidElement[] = [];
    const creators = new Map<number, string>();
    for (const e of dataset) {
      if (isPrivateTag(e.tag) && (e.tag & 0xff00) === 0 && (e.tag & 0xff) >= 0x10 && e.value.kind === 'text') {
        creators.set(((e.tag >>> 16) << 8) | (e.tag & 0xff), e.value.text.replace(/[\0 ]+$/, ''));
      }
    }
    const usedCreators = new Set<number>();
    const removeOverlays = this.#overlaysRemoved();
    for (const e of dataset) {
      const group = e.tag >>> 16;
      // Group lengths (gggg,0000) are retired in datasets (PS3.5 7.2) and would be wrong after editing.
      if ((e.tag & 0xffff) === 0) continue;
      if (e.value.kind === 'uninspectable') {
        // What cannot be read cannot be de-identified: removed whatever the table says (deid-dataset.ts).
        this.counts.removed++;
        continue;
      }
      if (removeOverlays && group >= 0x6000 && group <= 0x60ff && group % 2 === 0) {
        // Overlay Data is removed (X, or C which cannot be done on a bitmap): drop the whole overlay group so
        // that no incomplete Overlay Plane module is left behind.
        this.counts.removed++;
        continue;
      }
      if (isPrivateTag(e.tag)) {
        const kept = this.#private(e, creators);
        if (kept !== undefined) {
          out.push(kept);
          if ((e.tag & 0xffff) >= 0x1000) usedCreators.add((group << 8) | ((e.tag >>> 8) & 0xff));
        }
        continue;
      }
      const attribute = findProfileAttribute(e.tag);
      if (attribute === undefined && isDirectoryElement(e.tag)) {
        // Directory Structuring Elements (group 0004) belong to a DICOMDIR only (PS3.3 F.3), which is refused
        // whole (directory-objects.ts). In any other object they are left-overs of a media file set, outside
        // Table E.1-1, and can name the patient in a file name (Referenced File ID): removed.
        this.counts.removed++;
        continue;
      }
      const action: ResolvedAction = attribute === undefined ? (clean ? 'C' : 'K') : resolveAction(attribute, this.#options);
      const result = this.#apply(e, action, clean || action === 'C');
      if (result !== undefined) out.push(result);
    }
    // Keep a private creator only if an element of its block was kept (PS3.5 7.8.1).
    return out.filter((e) => {
      if (!isPrivateTag(e.tag) || (e.tag & 0xffff) >= 0x1000) return true;
      return usedCreators.has(((e.tag >>> 16) << 8) | (e.tag & 0xff));
    });
  }

  #overlaysRemoved(): boolean {
    const attribute = findProfileAttribute(0x60003000);
    return attribute === undefined || resolveAction(attribute, this.#options) !== 'K';
  }

  #private(e: DeidElement, creators: ReadonlyMap<number, string>): DeidElement | undefined {
    const element = e.tag & 0xffff;
    if (element >= 0x0010 && element <= 0x00ff) return e; // creator: filtered afterwards
    if (this.#options.has('retain-safe-private') && element >= 0x1000) {
      const safe = findSafePrivate(creators.get(((e.tag >>> 16) << 8) | (element >>> 8)), e.tag);
      if (safe !== undefined && hasSafeValue(safe, e)) {
        this.counts.kept++;
        return e;
      }
    }
    this.counts.removed++;
    return undefined;
  }

  #apply(e: DeidElement, action: ResolvedAction, clean: boolean): DeidElement | undefined {
    const v = e.value;
    switch (action) {
      case 'X':
        this.counts.removed++;
        return undefined;
      case 'Z':
        if (e.tag === DEID_TAG.PatientID || e.tag === DEID_TAG.PatientName) return this.#with(e, this.#dummy(e), 'replaced');
        return this.#with(
          e,
          v.kind === 'sequence'
            ? { kind: 'sequence', items: [] }
            : v.kind === 'text'
              ? { kind: 'text', text: '' }
              : { kind: 'bytes', bytes: new Uint8Array(0) },
          'emptied',
        );
      case 'D':
        if (v.kind === 'sequence') return { ...e, value: { kind: 'sequence', items: v.items.map((item) => this.#dataset(item, clean)) } };
        return this.#with(e, this.#dummy(e), 'replaced');
      case 'U':
      case 'U*':
        if (v.kind === 'sequence') return { ...e, value: { kind: 'sequence', items: v.items.map((item) => this.#dataset(item, clean)) } };
        if (v.kind !== 'text') return this.#with(e, { kind: 'bytes', bytes: new Uint8Array(0) }, 'emptied');
        return this.#with(e, { kind: 'text', text: mapValues(v.text, (uid) => remapUid(this.#digest, uid)) }, 'replaced');
      case 'K':
        if (v.kind === 'sequence') return { ...e, value: { kind: 'sequence', items: v.items.map((item) => this.#dataset(item, clean)) } };
        this.counts.kept++;
        return e;
      case 'C':
        return this.#clean(e);
    }
  }

  #clean(e: DeidElement): DeidElement | undefined {
    const v = e.value;
    if (v.kind === 'sequence') return { ...e, value: { kind: 'sequence', items: v.items.map((item) => this.#dataset(item, true)) } };
    if (v.kind !== 'text') {
      // A binary value (overlay bitmap, curve) cannot be cleaned of text: remove it.
      this.counts.removed++;
      return undefined;
    }
    if (e.vr === 'DA' || e.vr === 'DT') {
      if (this.#alreadyOurs || this.#options.has('retain-longitudinal-full-dates')) return this.#with(e, v, 'kept');
      const shift = e.vr === 'DA' ? shiftDate : shiftDateTime;
      return this.#with(e, { kind: 'text', text: mapValues(v.text, (d) => shift(d, this.#offsetDays)) }, 'shifted');
    }
    // The time of day is kept when dates are shifted by whole days (documented in docs/deidentification.md).
    if (e.vr === 'TM') return this.#with(e, v, 'kept');
    if (e.vr === 'AE') return this.#with(e, { kind: 'text', text: mapValues(v.text, (t) => this.#token('ae', t, 16)) }, 'replaced');
    if (e.vr === 'UI' || !TEXT_VRS.has(e.vr) || ['CS', 'DS', 'IS', 'AS', 'UR'].includes(e.vr)) return this.#with(e, v, 'kept');
    const cleaned = cleanText(v.text, this.#identifierTokens());
    return this.#with(e, { kind: 'text', text: cleaned }, cleaned === v.text ? 'kept' : 'replaced');
  }

  #with(e: DeidElement, value: DeidValue, counter: keyof ActionCounts): DeidElement {
    this.counts[counter]++;
    return value === e.value ? e : { ...e, value };
  }

  #token(purpose: string, source: string, maxLength: number, current = source): string {
    if (isPseudonymToken(this.#digest, purpose, current)) return current;
    return pseudonymToken(this.#digest, purpose, source, maxLength);
  }

  #dummy(e: DeidElement): DeidValue {
    const v = e.value;
    if (v.kind === 'bytes') return { kind: 'bytes', bytes: new Uint8Array(v.bytes.length) };
    if (v.kind !== 'text') return v;
    const current = v.text.replace(/[\0 ]+$/, '').trim();
    if (e.tag === DEID_TAG.PatientID) return { kind: 'text', text: this.#token('patient-id', this.#patientKey, 64, current) };
    if (e.tag === DEID_TAG.PatientName) return { kind: 'text', text: this.#token('patient-name', this.#patientKey, 64, current) };
    if (current === '') return { kind: 'text', text: '' };
    if (e.vr === 'UI') return { kind: 'text', text: mapValues(v.text, (uid) => remapUid(this.#digest, uid)) };
    const fixed = DUMMY[e.vr];
    if (fixed !== undefined) return { kind: 'text', text: fixed };
    const max = MAX_LENGTH[e.vr] ?? 16;
    return { kind: 'text', text: this.#token(e.vr === 'PN' ? 'person-name' : 'value', current, max) };
  }

  /** Identifiers that the profile removes or replaces in this dataset: what cleaned text must not keep. */
  #identifierTokens(): Set<string> {
    if (this.#tokens === undefined) {
      const values: string[] = [];
      const walk = (dataset: DeidDataset): void => {
        for (const e of dataset) {
          if (e.value.kind === 'sequence') {
            for (const item of e.value.items) walk(item);
            continue;
          }
          if (e.value.kind !== 'text' || e.vr === 'UI' || isPrivateTag(e.tag)) continue;
          const attribute = findProfileAttribute(e.tag);
          if (attribute === undefined) continue;
          // Only what this run removes or replaces: a description kept or cleaned under the options is not an
          // identifier source (and harvesting it would make a second run clean the cleaned text again).
          const action = resolveAction(attribute, this.#options);
          if (action !== 'K' && action !== 'C') values.push(e.value.text);
        }
      };
      walk(this.input);
      this.#tokens = identifierTokens(values);
    }
    return this.#tokens;
  }

  #stamp(body: DeidElement[]): DeidElement[] {
    const options = [...this.#options].sort();
    const codes = [DEID_METHOD_CODES.basic, ...options.map((o) => DEID_METHOD_CODES[o])].sort((a, b) => a[0].localeCompare(b[0]));
    const text = (tag: number, vr: string, value: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: value } });
    const temporal = this.#options.has('retain-longitudinal-full-dates')
      ? 'UNMODIFIED'
      : this.#options.has('retain-longitudinal-modified-dates')
        ? 'MODIFIED'
        : 'REMOVED';
    const added: DeidElement[] = [
      text(DEID_TAG.PatientIdentityRemoved, 'CS', 'YES'),
      text(DEID_TAG.DeidentificationMethod, 'LO', `${DEID_METHOD_NAME}\\PS3.15 E.1-1\\KEY ${this.#fingerprint}`),
      {
        tag: DEID_TAG.DeidentificationMethodCodeSequence,
        vr: 'SQ',
        value: {
          kind: 'sequence',
          items: codes.map(([value, meaning]) => [
            text(DEID_TAG.CodeValue, 'SH', value),
            text(DEID_TAG.CodingSchemeDesignator, 'SH', 'DCM'),
            text(DEID_TAG.CodeMeaning, 'LO', meaning),
          ]),
        },
      },
    ];
    if (body.some((e) => e.tag === DEID_TAG.PixelData)) added.push(text(DEID_TAG.LongitudinalTemporalInformationModified, 'CS', temporal));
    let out = [...body, ...added];
    if (this.settings.pixelsCleaned === true) {
      out = out.filter((e) => e.tag !== DEID_TAG.BurnedInAnnotation);
      out.push(text(DEID_TAG.BurnedInAnnotation, 'CS', 'NO'));
    }
    return out.sort((a, b) => a.tag - b.tag);
  }
}

/** Applies `f` to each value of a multi-valued string (PS3.5 6.4: values separated by backslashes). */
function mapValues(text: string, f: (value: string) => string): string {
  return text
    .replace(/[\0 ]+$/, '')
    .split('\\')
    .map((value) => {
      const trimmed = value.trim();
      return trimmed === '' ? '' : f(trimmed);
    })
    .join('\\');
}
