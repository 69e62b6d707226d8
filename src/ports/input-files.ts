export interface InputFile {
  /** The path as the user gave it or as found under a folder: shown to that user, never logged or audited. */
  readonly path: string;
  readonly sizeBytes: number;
}

export interface InputFiles {
  /** Expands files and folders (recursively, in sorted order) into files. Missing paths throw INPUT_NOT_FOUND. */
  list(paths: readonly string[]): Promise<InputFile[]>;
  /** Reads a whole file. Throws INPUT_UNREADABLE, or INPUT_TOO_LARGE above the configured limit. */
  read(file: InputFile): Promise<Uint8Array>;
}
