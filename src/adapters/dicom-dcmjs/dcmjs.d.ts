/**
 * The few parts of dcmjs 0.51 this adapter uses. dcmjs ships no TypeScript types; these declarations
 * cover only what `internal/libraries.ts` touches, so a dcmjs upgrade that changes them fails there.
 * (dcmjs-codecs ships its own `index.d.ts`, which is used as is.)
 */
declare module 'dcmjs' {
  type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

  interface DcmjsLogger {
    setLevel(level: LogLevelName, persist?: boolean): void;
    getLogger(name: string): DcmjsLogger;
  }

  /** One element as `DicomMessage._read` returns it: `Value` holds the decoded values. */
  interface DcmjsElement {
    readonly vr: string;
    readonly Value?: unknown[];
  }

  interface DcmjsReadOptions {
    ignoreErrors: boolean;
    untilTag: string | null;
    includeUntilTagValue: boolean;
    stopOnGreaterTag?: boolean;
  }

  /** An opaque dcmjs read stream over one ArrayBuffer. */
  interface ReadBufferStream {
    readonly __dcmjsReadBufferStream?: never;
  }

  interface ReadBufferStreamConstructor {
    new (buffer: ArrayBuffer, littleEndian?: boolean | null, options?: { start?: number | null; stop?: number | null; noCopy?: boolean }): ReadBufferStream;
  }

  interface DicomMessageStatic {
    /** Reads consecutive data elements of `syntax` (a transfer syntax UID) from the stream. Keys are 8 hex digits. */
    _read(stream: ReadBufferStream, syntax: string, options?: DcmjsReadOptions): Record<string, DcmjsElement>;
  }

  interface DictionaryEntry {
    readonly tag: string;
    readonly vr: string;
    readonly vm: string;
    readonly name: string;
  }

  /** A denaturalized dataset: elements keyed by 8 hex digits. */
  type DenaturalizedDataset = Record<string, unknown>;

  /** A Part 10 file in the making: meta elements, then `dict`; `write()` returns the file's bytes. */
  interface DicomDictInstance {
    dict: DenaturalizedDataset;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  const dcmjs: {
    readonly log: DcmjsLogger;
    readonly data: {
      readonly ReadBufferStream: ReadBufferStreamConstructor;
      readonly DicomMessage: DicomMessageStatic;
      readonly DicomDict: new (meta: DenaturalizedDataset) => DicomDictInstance;
      readonly DicomMetaDictionary: {
        /** Keyed by "(GGGG,EEEE)" in upper-case hex. */
        readonly dictionary: Readonly<Record<string, DictionaryEntry | undefined>>;
        /** Keyword-named ("naturalized") values to tag-keyed elements, VRs from the dictionary. */
        denaturalizeDataset(dataset: Readonly<Record<string, unknown>>): DenaturalizedDataset;
      };
    };
  };
  export default dcmjs;
}
