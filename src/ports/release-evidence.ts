/**
 * What a release request's gates produced (report.json, the protocol, a shadow summary), kept by
 * SHA-256 beside the request and never changed, so the evidence pack can include exactly what a gate
 * judged; and folders for the gates' evaluation runs.
 */
export interface ReleaseEvidence {
  /** A new, empty folder for one gate run of a request (an evaluation writes its report there). */
  runFolder(requestId: string, name: string): Promise<string>;
  /** Writes a text file into a run folder; returns its path (e.g. the criteria an evaluation reads). */
  writeRunFile(folder: string, name: string, text: string): Promise<string>;
  /** Keeps bytes as evidence of the request; returns their SHA-256 (keeping the same bytes twice is one copy). */
  keep(requestId: string, bytes: Uint8Array): Promise<string>;
  /** Keeps a file of a run folder (by its name there, e.g. `report.json`) as evidence; returns its SHA-256. */
  keepRunFile(requestId: string, folder: string, name: string): Promise<string>;
  /** Evidence by its SHA-256 (checked against it), or undefined. */
  read(requestId: string, sha256: string): Promise<Uint8Array | undefined>;
}
