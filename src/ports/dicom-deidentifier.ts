import type { ActionCounts, DeidProfile } from '../domain/deidentification/deidentify-dataset.js';
import type { PixelRule } from '../domain/deidentification/assess-pixels.js';
import type { KeyedDigest } from '../domain/deidentification/keyed-pseudonyms.js';
import type { InstanceIdentity } from '../domain/results/result-identity.js';

export interface DeidRequest {
  readonly profile: DeidProfile;
  /** HMAC-SHA-256 with the site secret (see adapters/crypto-node/keyed-digest.ts). */
  readonly digest: KeyedDigest;
  readonly pixelRules: readonly PixelRule[];
  /**
   * At ingest the pixels go only to the model and are never stored or released, so an image that may carry
   * burned-in text is de-identified (header only) instead of quarantined.
   */
  readonly headersOnly?: boolean;
  /**
   * Also read what the instance says about itself before anything is changed (`original` in the outcome),
   * from the same parse, for the re-identification vault at ingest.
   */
  readonly readOriginal?: boolean;
  /**
   * False: a Deflated Explicit VR Little Endian input comes out as Explicit VR Little Endian (the same
   * elements, not deflated again; lossless). At ingest, so that an instance is inflated once, at the door,
   * within the limits, and never again by what reads it later (inference, images, results); deflating it
   * again would also hold the event loop. Default true: the output keeps the input's transfer syntax.
   */
  readonly keepDeflated?: boolean;
}

/**
 * Read beside de-identification, for finding the study again: the keyed lookup key of the Accession
 * Number as received (the Basic Profile empties the value itself), and the de-identified Study Date and
 * Modality as the stored instance says them. Each absent when the instance has none.
 */
export interface DeidStudyFacts {
  /** accessionLookupKey (domain/deidentification/keyed-pseudonyms.ts) of the original Accession Number. */
  readonly accessionKey?: string;
  /** DA, YYYYMMDD, after de-identification (shifted unless the profile keeps dates). */
  readonly studyDate?: string;
  readonly modality?: string;
}

/** The outcome for one DICOM file. Quarantine is an outcome, not an error: nothing is released. */
export type DeidFileOutcome =
  | {
      readonly status: 'deidentified';
      /** The de-identified Part 10 file. */
      readonly bytes: Uint8Array;
      /** Pseudonymous Study and SOP Instance UIDs: where the file goes (`<study>/<instance>.dcm`); no study UID when the input had none. */
      readonly studyInstanceUid: string | undefined;
      readonly sopInstanceUid: string;
      readonly counts: ActionCounts;
      /** A Clean Pixel Data rule blanked rectangles (the file is then Explicit VR Little Endian if it was compressed). */
      readonly pixelsCleaned: boolean;
      readonly transferSyntaxUid: string;
      /** With `readOriginal`: the original identity, absent when the header lacks what a result needs. */
      readonly original?: InstanceIdentity;
      /**
       * The patient's age in whole years (≥ 90 as 90), derived before anything was removed
       * (domain/deidentification/patient-age.ts); absent when the header does not say it.
       */
      readonly patientAgeYears?: number;
      /** What a sender may look its study up by, and what QIDO-RS answers with (none of it identifying). */
      readonly studyFacts: DeidStudyFacts;
    }
  | {
      readonly status: 'quarantined';
      /** Pseudonymous SOP Instance UID, to name the reason file. */
      readonly sopInstanceUid: string;
      readonly reasons: readonly string[];
    };

export interface DicomDeidentifier {
  isDicom(bytes: Uint8Array): boolean;
  /** Throws PlatformError DICOM_* or DEID_* when the file cannot be processed. */
  deidentify(bytes: Uint8Array, request: DeidRequest): Promise<DeidFileOutcome>;
}

/**
 * What became of one write: `written` (the file is new, with these bytes), or a file was already at that
 * name, from this run, an earlier one or another process at the same time, and was kept as it is:
 * `identical` (it holds exactly these bytes) or `different` (it holds other bytes; these were not written).
 */
export interface DeidWrite {
  readonly path: string;
  readonly state: 'written' | 'identical' | 'different';
}

/**
 * Where de-identified files and quarantine reasons go: one folder, never outside it, never over an input,
 * never over any existing file (create-if-absent in the file system, so two runs into one folder cannot
 * replace each other's files either).
 */
export interface DeidOutputFolder {
  /** Writes `relativePath` (made only of pseudonymous names) under the folder unless a file is already there. */
  write(relativePath: string, bytes: Uint8Array): Promise<DeidWrite>;
}
