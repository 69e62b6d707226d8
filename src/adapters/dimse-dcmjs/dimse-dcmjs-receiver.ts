/**
 * DICOM C-ECHO and C-STORE SCP on dcmjs-dimse 0.3.3, implementing the DicomReceiver port.
 *
 * dcmjs-dimse is used for the protocol only (PDU parsing, association negotiation, DIMSE commands). Its
 * default C-STORE path parses the data set into memory and re-encodes it, which drops private elements and
 * rewrites the character set (../shared/notes/dicom-in-node.md), so `createStoreWritableStream` is
 * overridden: the P-DATA-TF fragments of the data set are appended, untouched, to a file that starts with a
 * File Meta Information header we build. The library's own `Server` is not used either: it cannot bind a
 * host, does not start its association timer for accepted sockets, and only ends (not destroys) a socket
 * after an error. One net.Server here does those things and feeds each socket to an Scp subclass, as
 * `Server.listen` does. Its timers are not used: they are one setting for three clocks, and a peer that
 * sends any small PDU (an A-RELEASE-RQ) before associating escapes its association deadline. The ARTIM and
 * idle timers here (internal/connection-timers.ts) and the slot accounting (internal/connection-slots.ts)
 * replace them.
 *
 * What a connection goes through: a host not on the allowlist, or one already holding its share of
 * handshake slots, is reset at accept before a byte is read. Then the whole A-ASSOCIATE-RQ must arrive
 * before ARTIM expires; the association slot is taken in the same tick as the limit check, so the
 * limit is exact; an association that idles is aborted.
 *
 * Nothing here logs or throws a UID, an AE title, a tag value or a path.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, statfs, unlink } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { association, requests, responses as responseTypes, Dataset } from 'dcmjs-dimse';
import { PlatformError } from '../../domain/errors.js';
import type { DicomReceiver, DicomReceiverOptions, StoreHandler, StoreOutcome } from '../../ports/dicom-receiver.js';
import type { Logger } from '../../ports/logger.js';
import { createHostAllowlist, normalizeRemoteAddress, type HostAllowlist } from './internal/host-allowlist.js';
import { ConnectionSlots, type SlotLimits, type SlotState } from './internal/connection-slots.js';
import { ConnectionTimers } from './internal/connection-timers.js';
import { buildPart10Header, isValidUid, trimDicomString } from './internal/part10-meta.js';
import { PduGuard } from './internal/pdu-guard.js';
import { SpillableSink } from './internal/spillable-sink.js';
import { STORAGE_SOP_CLASSES, VERIFICATION_SOP_CLASS } from './internal/storage-sop-classes.js';

const { Scp, constants, responses, log } = dimse;
const { CEchoResponse, CStoreResponse, CFindResponse, CMoveResponse, CGetResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, AbortSource, AbortReason } = constants;

// dcmjs-dimse logs through the root loglevel logger and enables every level at load time; its messages
// quote command sets, AE titles and, with logDatasets, whole data sets. None of it may reach the console.
log.setLevel('silent');

type Association = association.Association;
type CStoreRequest = requests.CStoreRequest;
type CStoreResponse = responseTypes.CStoreResponse;

/** DIMSE status codes (PS3.4 Annex B.2.3, PS3.7 Annex C). */
export const DIMSE_STATUS = {
  success: 0x0000,
  outOfResources: 0xa700,
  cannotUnderstand: 0xc000,
  processingFailure: 0x0110,
  sopClassNotSupported: 0x0122,
  notAuthorized: 0x0124,
  unrecognizedOperation: 0x0211,
} as const;

/**
 * `failed` means the handler broke (an I/O error, a bug), not that Vigil is full, so it is 0x0110
 * Processing failure (PS3.7 C.4.2) rather than 0xA7xx Refused: Out of Resources (PS3.4 B.2.3), which tells
 * the sender's operators the receiver lacks space and would send them looking at the wrong thing. Both are
 * failures, so a conforming sender keeps the instance and may retry either way.
 *
 * An instance Vigil will never accept as sent (unreadable, or a Deflated dataset that inflates past the
 * limits, DICOM_INFLATE_LIMIT_EXCEEDED) is `cannot_understand`: 0xC000 Error: Cannot Understand, a
 * permanent failure. Not 0xA7xx: resending the same bytes would be refused again, and senders retry
 * Out of Resources on their own (a bomb would come back in a loop); not 0xA9xx Data Set Does Not Match
 * SOP Class, which says something else. The outcome's code travels as Error Comment (0000,0902).
 */
export function dimseStatusOf(outcome: StoreOutcome): number {
  switch (outcome.status) {
    case 'stored':
    case 'duplicate':
      return DIMSE_STATUS.success;
    case 'failed':
      return DIMSE_STATUS.processingFailure;
    case 'refused':
      switch (outcome.reason) {
        case 'out_of_resources':
          return DIMSE_STATUS.outOfResources;
        case 'not_allowed':
          return DIMSE_STATUS.notAuthorized;
        case 'cannot_understand':
          return DIMSE_STATUS.cannotUnderstand;
        case 'sop_class_not_supported':
          return DIMSE_STATUS.sopClassNotSupported;
      }
  }
}

/**
 * The transfer syntaxes Vigil's DICOM reader decodes (adapters/dicom-dcmjs, transfer-syntax.ts), for the
 * composition root to pass as `acceptedTransferSyntaxes`; a test keeps the two in step. Order does not
 * matter: the sender's preference decides.
 */
export const RECEIVABLE_TRANSFER_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian (retired, still sent)
  '1.2.840.10008.1.2.1.99', // Deflated Explicit VR Little Endian
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.50', // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.51', // JPEG Extended (Process 2 & 4)
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, Process 14
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, Process 14, Selection Value 1
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless Only
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.201', // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
];

const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const DEFAULT_MAX_PDU_LENGTH = 65_536;
/** dcmjs-dimse caps what it advertises at 256 KiB (`Implementation.getMaxPduLength()`). */
const MAX_PDU_LENGTH = 262_144;
/** Larger than any PDU the guard lets through, so dcmjs-dimse's first write never waits for 'drain' (see below). */
const FILE_HIGH_WATER_MARK = 4 << 20;
/** Received data sets up to this size stay in memory; larger ones go to a file in the incoming folder. */
const DEFAULT_MAX_IN_MEMORY_BYTES = 32 << 20;
/** Associations open at once by default: well above 8 parallel senders, far below what exhausts memory or file descriptors. */
const DEFAULT_MAX_ASSOCIATIONS = 64;
/** One host's share by default: a PACS or modality sends on 1 to 8 associations; a quarter of the default total. */
const DEFAULT_MAX_ASSOCIATIONS_PER_HOST = 16;
/** At most one line per this long about connections refused at accept (a flood must not flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

type Refusal = Extract<StoreOutcome, { status: 'refused' }>['reason'];
/** Why a connection was closed at accept. */
type Refused = 'host-not-allowed' | 'no-free-slot';

interface Upload {
  readonly stream: Writable;
  readonly closed: Promise<void>;
  /** Where the accepted data set goes (absent for a refused one, which is discarded as it arrives). */
  readonly sink?: SpillableSink;
  readonly headerLength: number;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  refusal?: Refusal;
  writeError?: NodeJS.ErrnoException;
  handedOver: boolean;
  /** Set once the data set is complete: the peer now waits for our C-STORE-RSP, so its idle timer waits too. */
  releaseHold?: () => void;
}

/**
 * PS3.8 states, as far as they matter here: Sta2 (awaiting A-ASSOCIATE-RQ), Sta3 (deciding), Sta6
 * (associated), Sta13 (rejected, released or aborted: waiting for the peer to close).
 */
type ConnectionState = 'awaiting-request' | 'deciding' | 'associated' | 'closing';

interface Connection {
  readonly socket: Socket;
  readonly remoteAddress: string;
  callingAeTitle: string;
  calledAeTitle: string;
  state: ConnectionState;
  /** The slot it holds in `ConnectionSlots` until the socket closes. */
  slot: SlotState;
  readonly timers: ConnectionTimers;
  readonly uploads: Set<Upload>;
}

/** What one Scp instance needs from the receiver. */
interface ReceiverContext {
  readonly options: DicomReceiverOptions;
  readonly acceptedTransferSyntaxes: ReadonlySet<string>;
  readonly maxPduLength: number;
  readonly maxInMemoryBytes: number;
  readonly slots: ConnectionSlots;
  isStopping(): boolean;
  hasFreeDisk(): Promise<boolean>;
  handleStore(connection: Connection, upload: Upload | undefined): Promise<StoreAnswer>;
  track(work: Promise<unknown>): void;
}

/** A C-STORE-RSP: its Status (0000,0900), and for a refusal with a code, its Error Comment (0000,0902). */
interface StoreAnswer {
  readonly status: number;
  readonly errorComment?: string;
}

/** Error Comment is LO: at most 64 characters of the default repertoire, no backslash (PS3.5 6.2). */
function errorCommentOf(outcome: StoreOutcome): string | undefined {
  if (outcome.status !== 'refused' || outcome.code === undefined) return undefined;
  return /^[A-Z0-9_]{1,64}$/.test(outcome.code) ? outcome.code : undefined;
}

function isNoSpace(error: NodeJS.ErrnoException | undefined): boolean {
  return error?.code === 'ENOSPC' || error?.code === 'EDQUOT';
}

function closedPromise(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) resolve();
    else stream.once('close', () => resolve());
  });
}

function createDiscardSink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

class ReceiverScp extends Scp {
  private readonly uploadsByStream = new WeakMap<Writable, Upload>();
  private readonly uploadsByRequest = new WeakMap<object, Upload>();

  constructor(
    private readonly connection: Connection,
    private readonly context: ReceiverContext,
  ) {
    super(connection.socket, {});
    // The library's clocks stay off: its 'connected' flag is never set for an accepted socket (so its
    // association and PDU checks never fire), and its socket idle timeout is cleared here.
    connection.socket.setTimeout(0);
  }

  override associationRequested(association: Association): void {
    // A second A-ASSOCIATE-RQ on one connection is a protocol error (PS3.8 Table 9-10, Sta6 + AE-6 → AA-8).
    // (A socket already destroyed, by the PDU guard for bytes that followed the request, is left alone.)
    if (this.connection.socket.destroyed) return;
    if (this.connection.state !== 'awaiting-request') {
      this.connection.socket.destroy();
      return;
    }
    // AE-6: the request is in, ARTIM stops; what remains (the disk check) is ours to bound, not the peer's.
    this.connection.state = 'deciding';
    this.connection.timers.stopArtim();
    this.context.track(
      this.decideAssociation(association).catch(() => {
        this.connection.socket.destroy();
      }),
    );
  }

  /** AE-8: A-ASSOCIATE-RJ, then ARTIM for the peer to close (Sta13). */
  private reject(result: number, source: number, reason: number): void {
    this.sendAssociationReject(result, source, reason);
    this.closeGracefully();
  }

  /** Sta13: we said our last word; the peer gets one ARTIM period to close before we do. */
  private closeGracefully(): void {
    const { connection, context } = this;
    if (connection.slot === 'associated') {
      context.slots.endAssociation(connection.remoteAddress);
      connection.slot = 'pending';
    }
    connection.state = 'closing';
    connection.timers.stopIdle();
    connection.timers.startArtim();
    connection.socket.end();
  }

  /** Called by the receiver when the idle timer expires (AA-1: A-ABORT, service user, reason not specified). */
  abortIdle(): void {
    if (this.connection.state !== 'associated') return;
    this.sendAbort(AbortSource.ServiceUser, AbortReason.NotSpecified);
    this.closeGracefully();
  }

  private async decideAssociation(association: Association): Promise<void> {
    const { options, slots } = this.context;
    const { connection } = this;
    const callingAeTitle = trimDicomString(association.getCallingAeTitle());
    const calledAeTitle = trimDicomString(association.getCalledAeTitle());
    const callers = options.allowlist.callingAeTitles;
    // PS3.8 Table 9-21. (Hosts are not checked here: one outside the allowlist never gets this far.)
    if (callers !== '*' && !callers.includes(callingAeTitle)) {
      return this.reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
    }
    if (calledAeTitle !== options.aeTitle) {
      return this.reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
    }
    if (this.context.isStopping()) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.TemporaryCongestion);
    }
    // Taken now, before anything is awaited: checking here and marking the connection after the disk check
    // let every request that arrived in the same moment through (65 of 65 with a limit of 64).
    if (!slots.associate(connection.remoteAddress)) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
    }
    connection.slot = 'associated';
    const hasFreeDisk = await this.context.hasFreeDisk();
    // The peer may have gone meanwhile; the close handler has then freed the slot.
    if (connection.socket.destroyed) return;
    if (!hasFreeDisk) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
    }
    connection.state = 'associated';
    connection.timers.startIdle();
    connection.callingAeTitle = callingAeTitle;
    connection.calledAeTitle = calledAeTitle;
    for (const { id } of association.getPresentationContexts()) {
      const presentationContext = association.getPresentationContext(id);
      const abstractSyntax = trimDicomString(presentationContext.getAbstractSyntaxUid());
      const proposed = presentationContext.getTransferSyntaxUids();
      const acceptable =
        abstractSyntax === VERIFICATION_SOP_CLASS
          ? (uid: string) => uid === IMPLICIT_VR_LE || uid === EXPLICIT_VR_LE
          : STORAGE_SOP_CLASSES.has(abstractSyntax)
            ? (uid: string) => this.context.acceptedTransferSyntaxes.has(uid)
            : undefined;
      if (acceptable === undefined) {
        presentationContext.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        continue;
      }
      // The sender's order is its preference; taking its first acceptable syntax means it never has to
      // transcode what it holds, so what we store is what it had.
      const chosen = proposed.find((uid) => acceptable(trimDicomString(uid)));
      if (chosen === undefined) presentationContext.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      else presentationContext.setResult(PresentationContextResult.Accept, chosen);
    }
    association.setMaxPduLength(this.context.maxPduLength);
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    // Outside an association an A-RELEASE-RQ is a protocol error; answering it would let a peer that
    // never associates look busy.
    if (this.connection.state !== 'associated') {
      this.connection.socket.destroy();
      return;
    }
    // AR-4: A-RELEASE-RP, then ARTIM for the peer to close.
    this.sendAssociationReleaseResponse();
    this.closeGracefully();
  }

  override abort(): void {
    this.connection.socket.destroy();
  }

  override cEchoRequest(request: requests.CEchoRequest, callback: (response: responseTypes.CEchoResponse) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(DIMSE_STATUS.success);
    callback(response);
  }

  // Only Verification and storage contexts are ever accepted; a query/retrieve command sent on one of them
  // is a protocol error, answered without a library default that might claim success.
  override cFindRequest(request: requests.CFindRequest, callback: (responses: responseTypes.CFindResponse[]) => void): void {
    const response = CFindResponse.fromRequest(request);
    response.setStatus(DIMSE_STATUS.unrecognizedOperation);
    callback([response]);
  }

  override cMoveRequest(request: requests.CMoveRequest, callback: (responses: responseTypes.CMoveResponse[]) => void): void {
    const response = CMoveResponse.fromRequest(request);
    response.setStatus(DIMSE_STATUS.unrecognizedOperation);
    callback([response]);
  }

  override cGetRequest(request: requests.CGetRequest, callback: (responses: responseTypes.CGetResponse[]) => void): void {
    const response = CGetResponse.fromRequest(request);
    response.setStatus(DIMSE_STATUS.unrecognizedOperation);
    callback([response]);
  }

  /**
   * Called by dcmjs-dimse at the first data-set fragment of a C-STORE. Every fragment is then written to
   * the returned stream in arrival order. dcmjs-dimse waits for 'drain' only if the very first write
   * returns false, and while it waits, later PDUs are processed; the high-water mark above any allowed PDU
   * keeps that first write from returning false, so fragments cannot be reordered.
   */
  override createStoreWritableStream(presentationContext: association.PresentationContext, request: CStoreRequest): Writable {
    const sopClassUid = trimDicomString(request.getAffectedSopClassUid() ?? '');
    const sopInstanceUid = trimDicomString(request.getAffectedSopInstanceUid() ?? '');
    const transferSyntaxUid = trimDicomString(presentationContext.getAcceptedTransferSyntaxUid() ?? '');
    const refusal: Refusal | undefined =
      presentationContext.getResult() !== PresentationContextResult.Accept
        ? 'sop_class_not_supported'
        : !isValidUid(sopClassUid) || !isValidUid(sopInstanceUid) || !isValidUid(transferSyntaxUid)
          ? 'cannot_understand'
          : !STORAGE_SOP_CLASSES.has(sopClassUid) || sopClassUid !== trimDicomString(presentationContext.getAbstractSyntaxUid())
            ? 'sop_class_not_supported'
            : undefined;
    let upload: Upload;
    if (refusal !== undefined) {
      const stream = createDiscardSink();
      upload = { stream, closed: closedPromise(stream), headerLength: 0, sopClassUid, sopInstanceUid, transferSyntaxUid, refusal, handedOver: false };
    } else {
      const header = buildPart10Header({
        sopClassUid,
        sopInstanceUid,
        transferSyntaxUid,
        sendingAeTitle: this.connection.callingAeTitle,
        receivingAeTitle: this.connection.calledAeTitle,
      });
      const stream = new SpillableSink({
        maxInMemoryBytes: this.context.maxInMemoryBytes,
        // A random name: a UID in a file name would end up in some error message or listing one day.
        spillPath: () => join(this.context.options.incomingDir, `${randomUUID()}.part`),
        highWaterMark: FILE_HIGH_WATER_MARK,
      });
      upload = {
        stream,
        closed: closedPromise(stream),
        sink: stream,
        headerLength: header.length,
        sopClassUid,
        sopInstanceUid,
        transferSyntaxUid,
        handedOver: false,
      };
      stream.on('error', (error: NodeJS.ErrnoException) => {
        upload.writeError ??= error;
      });
      stream.write(header);
      this.applyBackpressure(stream);
    }
    this.connection.uploads.add(upload);
    this.uploadsByStream.set(upload.stream, upload);
    this.uploadsByRequest.set(request, upload);
    return upload.stream;
  }

  /**
   * dcmjs-dimse never pauses the socket; pause it while the spill file is behind, so memory stays bounded.
   * The peer is not idle meanwhile: we are the slow side, so its idle timer waits.
   */
  private applyBackpressure(stream: Writable): void {
    const { socket, timers } = this.connection;
    const onData = (): void => {
      if (!stream.writableNeedDrain || socket.isPaused()) return;
      socket.pause();
      const release = timers.hold();
      const resume = (): void => {
        stream.off('drain', resume);
        stream.off('close', resume);
        release();
        socket.resume();
      };
      stream.on('drain', resume);
      stream.on('close', resume);
    };
    socket.on('data', onData);
    stream.once('close', () => socket.off('data', onData));
  }

  /**
   * Called after the last fragment, once dcmjs-dimse has ended the stream. The callback hands a data set to
   * the C-STORE request and dispatches it to `cStoreRequest`; we pass none, because the bytes are on disk.
   */
  override createDatasetFromStoreWritableStream(
    writable: Writable,
    _presentationContext: association.PresentationContext,
    callback: (dataset: Dataset) => void,
  ): void {
    const upload = this.uploadsByStream.get(writable);
    if (upload !== undefined) upload.releaseHold = this.connection.timers.hold();
    const closed = upload?.closed ?? Promise.resolve();
    this.context.track(
      closed.then(() => {
        try {
          // Kept: the typings demand a Dataset, the library takes undefined for "none", and a wider callback type would not override.
          callback(undefined as unknown as Dataset);
        } catch {
          // The library's command state moved on (a sender that did not wait for our response): the
          // association is no longer coherent, so drop it. `close` cleans up the upload.
          this.connection.socket.destroy();
        }
      }),
    );
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const upload = this.uploadsByRequest.get(request);
    if (upload !== undefined) upload.handedOver = true;
    // The peer waits for this response: its idle timer restarts once the response is sent.
    const release = upload?.releaseHold ?? this.connection.timers.hold();
    this.context.track(
      this.context
        .handleStore(this.connection, upload)
        .catch((): StoreAnswer => ({ status: DIMSE_STATUS.processingFailure }))
        .then(({ status, errorComment }) => {
          if (upload !== undefined) this.connection.uploads.delete(upload);
          if (this.connection.socket.destroyed) return;
          const response = CStoreResponse.fromRequest(request);
          response.setStatus(status);
          if (errorComment !== undefined) response.setErrorComment(errorComment);
          callback(response);
        })
        .finally(release),
    );
  }
}

export interface DimseDcmjsReceiverDependencies {
  readonly logger?: Logger;
}

export class DimseDcmjsReceiver implements DicomReceiver {
  private readonly options: DicomReceiverOptions;
  private readonly isHostAllowed: HostAllowlist;
  private readonly maxPduLength: number;
  private readonly slotLimits: SlotLimits;
  private readonly logger: Logger | undefined;
  private server: NetServer | undefined;
  private stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly refusals = new Map<Refused, { count: number; loggedAt: number }>();

  constructor(options: DicomReceiverOptions, dependencies: DimseDcmjsReceiverDependencies = {}) {
    const maxPduLength = options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
    if (!Number.isInteger(maxPduLength) || maxPduLength < 4096 || maxPduLength > MAX_PDU_LENGTH) {
      throw new PlatformError('CONFIG_INVALID', 'The DICOM max PDU length must be an integer from 4096 to 262144', { maxPduLength });
    }
    if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(options.aeTitle) || options.aeTitle.trim() !== options.aeTitle) {
      throw new PlatformError('CONFIG_INVALID', 'The DICOM AE title must be 1 to 16 printable characters without backslash or padding');
    }
    const maxInMemoryBytes = options.maxInMemoryBytes ?? DEFAULT_MAX_IN_MEMORY_BYTES;
    if (!Number.isSafeInteger(maxInMemoryBytes) || maxInMemoryBytes < 0) {
      throw new PlatformError('CONFIG_INVALID', 'The DICOM in-memory limit must be a whole number of bytes', {});
    }
    for (const [name, value] of [
      ['associate', options.associateTimeoutMs],
      ['idle', options.idleTimeoutMs],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new PlatformError('CONFIG_INVALID', `The DICOM ${name} timeout must be a positive number of milliseconds`, {});
    }
    const maxAssociations = options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS;
    const maxAssociationsPerHost = Math.min(maxAssociations, options.maxAssociationsPerHost ?? DEFAULT_MAX_ASSOCIATIONS_PER_HOST);
    if (!Number.isSafeInteger(maxAssociations) || maxAssociations < 1 || !Number.isSafeInteger(maxAssociationsPerHost) || maxAssociationsPerHost < 1) {
      throw new PlatformError('CONFIG_INVALID', 'The DICOM association limits must be positive whole numbers', {});
    }
    this.options = options;
    this.maxPduLength = maxPduLength;
    // A host may have as many handshakes under way as it may hold associations; all hosts together twice the total.
    this.slotLimits = { maxAssociations, maxAssociationsPerHost, maxPending: 2 * maxAssociations, maxPendingPerHost: maxAssociationsPerHost };
    this.isHostAllowed = createHostAllowlist(options.allowlist.hosts);
    this.logger = dependencies.logger;
  }

  async start(handler: StoreHandler): Promise<{ readonly port: number }> {
    if (this.server !== undefined) throw new PlatformError('INTERNAL', 'The DICOM receiver is already started');
    try {
      await mkdir(this.options.incomingDir, { recursive: true, mode: 0o700 });
      // Left by a process that died mid-association: never acknowledged (the sender still holds the
      // instance and resends it), and received bytes not yet de-identified, which must not stay on disk.
      for (const name of await readdir(this.options.incomingDir)) {
        if (name.endsWith('.part')) await unlink(join(this.options.incomingDir, name));
      }
    } catch (error) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Cannot create or clear the DICOM incoming folder', {}, { cause: error });
    }
    this.stopping = false;
    const context = this.createContext(handler);
    // Paused on connect: nothing is read from a socket before accept() has decided to keep it.
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket, context));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.port, this.options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.server = undefined;
      throw new PlatformError('DICOM_LISTEN_FAILED', 'The DICOM receiver cannot listen on its host and port', { port: this.options.port }, { cause: error });
    }
    server.on('error', () => this.logger?.error({ code: 'DICOM_LISTEN_FAILED' }, 'DICOM receiver socket error'));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.options.port;
    this.logger?.info({}, 'DICOM receiver listening');
    return { port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Work started before stop() finishes and is answered; new instances are refused meanwhile, so this ends.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    for (const connection of this.connections) connection.socket.destroy();
    await closed;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.server = undefined;
  }

  private createContext(handler: StoreHandler): ReceiverContext {
    return {
      options: this.options,
      acceptedTransferSyntaxes: new Set(this.options.acceptedTransferSyntaxes),
      maxPduLength: this.maxPduLength,
      maxInMemoryBytes: this.options.maxInMemoryBytes ?? DEFAULT_MAX_IN_MEMORY_BYTES,
      slots: new ConnectionSlots(this.slotLimits),
      isStopping: () => this.stopping,
      hasFreeDisk: () => this.hasFreeDisk(),
      handleStore: (connection, upload) => this.handleStore(handler, connection, upload),
      track: (work) => this.track(work),
    };
  }

  private track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }

  private async hasFreeDisk(): Promise<boolean> {
    try {
      const stats = await statfs(this.options.incomingDir);
      return stats.bavail * stats.bsize >= this.options.minFreeDiskBytes;
    } catch {
      return false;
    }
  }

  /**
   * Decides before reading a byte. A host outside the allowlist, or one already holding its share of
   * handshake slots (or all of them taken), is reset here rather than answered with A-ASSOCIATE-RJ: an
   * answer needs its A-ASSOCIATE-RQ read and parsed first, and holding a slot while waiting for it is what
   * let 200 silent connections from a stranger lock out every allowed sender. PS3.8 Section 9.1.4 Note 1
   * prefers a reject over a closed connection, but for a peer that is not one of ours it is the firewall's
   * answer, and the only one that costs nothing.
   */
  private accept(socket: Socket, context: ReceiverContext): void {
    const remoteAddress = normalizeRemoteAddress(socket.remoteAddress ?? '');
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (!this.isHostAllowed(remoteAddress)) {
      this.refuse(socket, 'host-not-allowed');
      return;
    }
    if (!context.slots.admit(remoteAddress)) {
      this.refuse(socket, 'no-free-slot');
      return;
    }
    let scp: ReceiverScp | undefined;
    const timers = new ConnectionTimers({
      artimMs: this.options.associateTimeoutMs,
      idleMs: this.options.idleTimeoutMs,
      // AA-2: ARTIM expired (no A-ASSOCIATE-RQ in time, or a rejected or released peer that stays): close.
      onArtimExpired: () => socket.destroy(),
      onIdleExpired: () => scp?.abortIdle(),
    });
    const connection: Connection = {
      socket,
      remoteAddress,
      callingAeTitle: '',
      calledAeTitle: '',
      state: 'awaiting-request',
      slot: 'pending',
      timers,
      uploads: new Set(),
    };
    // Registered before dcmjs-dimse's own 'data' listener, so a forged PDU header is caught first.
    const guard = new PduGuard(this.maxPduLength);
    socket.on('data', (chunk: Buffer) => {
      const completed = guard.completed;
      if (!guard.accept(chunk)) socket.destroy();
      else if (guard.completed !== completed) timers.pduReceived();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      timers.clear();
      this.connections.delete(connection);
      for (const upload of connection.uploads) {
        if (upload.handedOver) continue;
        upload.stream.destroy();
        const sink = upload.sink;
        if (sink !== undefined) this.track(upload.closed.then(() => sink.discard()));
      }
      connection.uploads.clear();
      try {
        context.slots.release(remoteAddress, connection.slot);
      } catch {
        // A counting bug must show, but must not take the receiver down from inside a socket event.
        this.logger?.error({ code: 'INTERNAL', stage: 'dicom-accept' }, 'DICOM connection slot accounting is inconsistent');
      }
    });
    this.connections.add(connection);
    try {
      scp = new ReceiverScp(connection, context);
      // The bundled typings lose the event-emitter base (its types package is not installed).
      (scp as typeof scp & { on(event: 'networkError', listener: () => void): void }).on('networkError', () => socket.destroy());
    } catch {
      socket.destroy();
      return;
    }
    // AE-5: transport connection accepted, ARTIM started.
    timers.startArtim();
    socket.resume();
  }

  /** Resets the connection (no FIN handshake, no TIME_WAIT kept here) and counts it for a rate-limited log line. */
  private refuse(socket: Socket, reason: Refused): void {
    socket.resetAndDestroy();
    const now = Date.now();
    const entry = this.refusals.get(reason) ?? { count: 0, loggedAt: -Infinity };
    entry.count += 1;
    if (now - entry.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      this.logger?.warn({ stage: 'dicom-accept', status: reason, count: entry.count }, 'DICOM connections closed at accept since the last such line');
      entry.count = 0;
      entry.loggedAt = now;
    }
    this.refusals.set(reason, entry);
  }

  private async handleStore(handler: StoreHandler, connection: Connection, upload: Upload | undefined): Promise<StoreAnswer> {
    if (upload === undefined) return { status: DIMSE_STATUS.cannotUnderstand };
    try {
      if (upload.refusal !== undefined) return { status: dimseStatusOf({ status: 'refused', reason: upload.refusal }) };
      const sink = upload.sink;
      if (upload.writeError !== undefined || sink === undefined) {
        this.logger?.error({ code: 'STORE_WRITE_FAILED', stage: 'dicom-receive' }, 'Could not write a received DICOM instance');
        return { status: isNoSpace(upload.writeError) ? DIMSE_STATUS.outOfResources : DIMSE_STATUS.processingFailure };
      }
      // stop() waits for running handlers; refusing new ones while stopping is what lets it finish.
      if (this.stopping) return { status: DIMSE_STATUS.outOfResources };
      let outcome: StoreOutcome;
      try {
        outcome = await handler({
          bytes: () => sink.bytes(),
          sizeBytes: sink.size,
          datasetOffset: upload.headerLength,
          sopClassUid: upload.sopClassUid,
          sopInstanceUid: upload.sopInstanceUid,
          transferSyntaxUid: upload.transferSyntaxUid,
          callingAeTitle: connection.callingAeTitle,
          calledAeTitle: connection.calledAeTitle,
          remoteAddress: connection.remoteAddress,
        });
      } catch {
        this.logger?.error({ stage: 'dicom-receive' }, 'The DICOM store handler threw');
        outcome = { status: 'failed' };
      }
      const errorComment = errorCommentOf(outcome);
      return { status: dimseStatusOf(outcome), ...(errorComment === undefined ? {} : { errorComment }) };
    } finally {
      await upload.sink?.discard();
    }
  }
}
