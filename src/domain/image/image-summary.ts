import { formatPatientAgeYears, type ImageAttributes, type PatientAgeYears } from './image-frame.js';

/**
 * What a reader is told about a judged image besides its pixels, as kept after de-identification at
 * ingest (docs/deidentification.md): nothing here identifies a patient.
 *
 * - modality, body part, view: not in PS3.15 Table E.1-1, always kept.
 * - manufacturer and model name (0008,0070), (0008,1090): not in the table, always kept. Never the
 *   Device Serial Number or Station Name (the table removes them unless Retain Device Identity, and
 *   a serial number is a rare value that can re-identify).
 * - the patient's age: the whole years derived at the door (≥ 90 as 90), or the range an upload declared.
 * - the patient's sex: Patient's Sex (0010,0040) is emptied by the Basic Profile (Z) and kept only under
 *   Retain Patient Characteristics; absent when not kept.
 * - site and device: the labels an upload declared (chosen by the site, not patient attributes). A DICOM
 *   study's site is not known: Institution Name is removed or replaced by a dummy at ingest unless Retain
 *   Institution Identity is chosen, and a dummy must not pass for a site.
 */
export interface ImageSummary {
  readonly modality?: string;
  readonly bodyPart?: string;
  readonly view?: string;
  /** Whole years (`64`) or a declared range (`1-5`); 90 means 90 or over. */
  readonly patientAgeYears?: string;
  readonly patientSex?: 'M' | 'F' | 'O';
  readonly manufacturer?: string;
  readonly manufacturerModel?: string;
  readonly site?: string;
  readonly device?: string;
  /** Frames of the instance the image belongs to (a cine's frames are images of one instance). */
  readonly frames: number;
}

/** The summary of a frame's attributes, with the age kept at ingest and what the upload declared. */
export function summarizeImage(
  attributes: ImageAttributes,
  patientAgeYears: PatientAgeYears | undefined,
  declared: { readonly site?: string; readonly device?: string } | undefined,
): ImageSummary {
  const sex = attributes.patientSex;
  return {
    ...(attributes.modality === undefined ? {} : { modality: attributes.modality }),
    ...(attributes.bodyPartExamined === undefined ? {} : { bodyPart: attributes.bodyPartExamined }),
    ...(attributes.viewPosition === undefined ? {} : { view: attributes.viewPosition }),
    ...(patientAgeYears === undefined ? {} : { patientAgeYears: formatPatientAgeYears(patientAgeYears) }),
    ...(sex === undefined ? {} : { patientSex: sex }),
    ...(attributes.manufacturer === undefined ? {} : { manufacturer: attributes.manufacturer }),
    ...(attributes.manufacturerModelName === undefined ? {} : { manufacturerModel: attributes.manufacturerModelName }),
    ...(declared?.site === undefined ? {} : { site: declared.site }),
    ...(declared?.device === undefined ? {} : { device: declared.device }),
    frames: attributes.numberOfFrames,
  };
}

/** The device as a reader names it: the declared label, else manufacturer and model; undefined when neither is known. */
export function deviceLabel(summary: Pick<ImageSummary, 'device' | 'manufacturer' | 'manufacturerModel'>): string | undefined {
  if (summary.device !== undefined) return summary.device;
  const parts = [summary.manufacturer, summary.manufacturerModel].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? undefined : parts.join(' ');
}
