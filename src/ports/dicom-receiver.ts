/**
 * The DICOM network receiver (C-ECHO and C-STORE SCP, PS3.4 Annex A and B) as the ingest workflow sees it.
 * The receiver owns the network: associations, the allowlist, presentation-context negotiation, the disk
 * check and the DIMSE status codes. The handler owns durability: an instance is acknowledged to the sender
 * (C-STORE-RSP status 0x0000) only after the handler resolved `stored` or `duplicate`.
 */

export interface ReceivedInstance {
  /**
   * The instance as a Part 10 file: a File Meta Information header written by the receiver (PS3.10 Section
   * 7.1, built from the negotiated transfer syntax and the command's SOP Class and Instance UIDs), followed
   * by the data set bytes exactly as they came off the wire (still deflated for Deflated Explicit VR Little
   * Endian). Held in memory, or for a large instance in a file of the incoming folder that the receiver
   * deletes once the handler settles: the handler keeps what it needs by writing it elsewhere.
   */
  bytes(): Promise<Uint8Array>;
  readonly sizeBytes: number;
  /** Byte offset of the data set in `bytes()` (the end of the meta header). */
  readonly datasetOffset: number;
  /** From the C-STORE-RQ command (Affected SOP Class UID). Never log it. */
  readonly sopClassUid: string;
  /** From the C-STORE-RQ command (Affected SOP Instance UID). Never log it. */
  readonly sopInstanceUid: string;
  /** The transfer syntax accepted for the presentation context the data set arrived on. */
  readonly transferSyntaxUid: string;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  /** The sender's IP address (IPv4-mapped IPv6 addresses are given as IPv4). */
  readonly remoteAddress: string;
}

/**
 * What the handler did with one instance; the receiver turns it into a C-STORE-RSP status.
 * `stored` and `duplicate` (already held: stored once) → 0x0000 Success;
 * `refused`/`out_of_resources` → 0xA700; `not_allowed` → 0x0124; `cannot_understand` → 0xC000;
 * `sop_class_not_supported` → 0x0122; `failed` → 0x0110 Processing failure. A handler that throws counts
 * as `failed`. A refusal's `code` (a Vigil error code, never a value from the instance) goes back as the
 * response's Error Comment (0000,0902), which PS3.4 Table B.2-1 allows with these failure statuses, so the
 * sender's log says why.
 */
export type StoreOutcome =
  | { readonly status: 'stored' }
  | { readonly status: 'duplicate' }
  | {
      readonly status: 'refused';
      readonly reason: 'out_of_resources' | 'not_allowed' | 'cannot_understand' | 'sop_class_not_supported';
      readonly code?: string;
    }
  | { readonly status: 'failed' };

export type StoreHandler = (instance: ReceivedInstance) => Promise<StoreOutcome>;

export interface DicomReceiverAllowlist {
  /** Calling AE titles allowed to associate (compared after trimming padding), or '*' for any. */
  readonly callingAeTitles: readonly string[] | '*';
  /**
   * IPv4/IPv6 addresses or CIDR blocks allowed to connect. Absent: loopback only (127.0.0.0/8 and ::1). A
   * connection from any other address is closed (TCP reset) as it is accepted, before a byte is read.
   */
  readonly hosts?: readonly string[];
}

export interface DicomReceiverOptions {
  /** TCP port; 0 picks a free one (returned by `start`). */
  readonly port: number;
  /** Address to bind, e.g. '127.0.0.1' or '0.0.0.0'. */
  readonly host: string;
  /** Our AE title: an association calling any other AE title is rejected (called AE not recognized). */
  readonly aeTitle: string;
  readonly allowlist: DicomReceiverAllowlist;
  /** Transfer syntax UIDs accepted for storage SOP classes; the sender's first proposed one in this list wins. */
  readonly acceptedTransferSyntaxes: readonly string[];
  /** Largest P-DATA-TF PDU we accept (advertised in A-ASSOCIATE-AC). Default 65536, at most 262144. */
  readonly maxPduLength?: number;
  /**
   * The ARTIM timer (PS3.8 Section 9.1.5): a connection must have sent its whole A-ASSOCIATE-RQ within this
   * long after TCP accept, however its bytes trickle in, or it is closed; a peer that was rejected, released
   * or aborted gets as long again to close. A few seconds: a sender writes its request at once.
   */
  readonly associateTimeoutMs: number;
  /**
   * An association whose peer sends no complete PDU for this long while it owes one is aborted (A-ABORT).
   * Not counted while Vigil owes the peer (a C-STORE response still being worked on, a paused socket).
   */
  readonly idleTimeoutMs: number;
  /** Where instances larger than `maxInMemoryBytes` are written while they arrive and the handler runs (created owner-only if missing). */
  readonly incomingDir: string;
  /** Instances up to this size (meta header included) are held in memory; default 32 MiB. 0: every instance goes to a file. */
  readonly maxInMemoryBytes?: number;
  /** New associations are refused (transient, local limit exceeded) while the disk has less free space. */
  readonly minFreeDiskBytes: number;
  /**
   * Associations open at once, exactly: one more is refused (A-ASSOCIATE-RJ transient, local limit
   * exceeded). Connections not associated (opening or closing) are capped at twice this; beyond it a new
   * connection is closed as it is accepted. Default 64.
   */
  readonly maxAssociations?: number;
  /**
   * Associations open at once from one host (refused beyond it like the total), and connections not
   * associated from one host (closed at accept beyond it), so that one host cannot take every slot.
   * Default 16, at most `maxAssociations`.
   */
  readonly maxAssociationsPerHost?: number;
}

export interface DicomReceiver {
  /**
   * Starts listening. Throws DICOM_LISTEN_FAILED when the host/port cannot be bound.
   * @example
   * const { port } = await receiver.start(async (instance) => ingest(instance));
   */
  start(handler: StoreHandler): Promise<{ readonly port: number }>;
  /** Stops accepting connections, waits for running handlers, then closes every association. */
  stop(): Promise<void>;
}
