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
 * `Server.listen` does.
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
import { buildPart10Header, isValidUid, trimDicomString } from './internal/part10-meta.js';
import { PduGuard } from './internal/pdu-guard.js';
import { SpillableSink } from './internal/spillable-sink.js';
import { STORAGE_SOP_CLASSES, VERIFICATION_SOP_CLASS } from './internal/storage-sop-classes.js';

const { Scp, constants, responses, log } = dimse;
const { CEchoResponse, CStoreResponse, CFindResponse, CMoveResponse, CGetResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

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
/** How long a rejected peer gets to read A-ASSOCIATE-RJ and close before we drop it. */
const REJECT_GRACE_MS = 2_000;

type Refusal = Extract<StoreOutcome, { status: 'refused' }>['reason'];

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
}

interface Connection {
  readonly socket: Socket;
  readonly remoteAddress: string;
  callingAeTitle: string;
  calledAeTitle: string;
  /** The association was accepted (counts against maxAssociations until the socket closes). */
  associated: boolean;
  readonly uploads: Set<Upload>;
}

/** What one Scp instance needs from the receiver. */
interface ReceiverContext {
  readonly options: DicomReceiverOptions;
  readonly acceptedTransferSyntaxes: ReadonlySet<string>;
  readonly maxPduLength: number;
  readonly maxInMemoryBytes: number;
  readonly isHostAllowed: HostAllowlist;
  isStopping(): boolean;
  /** Connections whose association was accepted (and not yet closed). */
  associations(): number;
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
    const timeoutMs = context.options.associationTimeoutMs;
    super(connection.socket, { connectTimeout: timeoutMs, associationTimeout: timeoutMs, pduTimeout: timeoutMs });
    // dcmjs-dimse starts its association timer on the socket's 'connect' event, which an accepted socket
    // never emits. Without this only the socket idle timeout applies, and a peer trickling one byte at a
    // time never completes a PDU yet never goes idle.
    Object.assign(this, { connected: true, connectedTime: Date.now() });
  }

  override associationRequested(association: Association): void {
    this.context.track(
      this.decideAssociation(association).catch(() => {
        this.connection.socket.destroy();
      }),
    );
  }

  private reject(result: number, source: number, reason: number): void {
    this.sendAssociationReject(result, source, reason);
    const { socket } = this.connection;
    socket.end();
    setTimeout(() => socket.destroy(), REJECT_GRACE_MS).unref();
  }

  private async decideAssociation(association: Association): Promise<void> {
    const { options } = this.context;
    const callingAeTitle = trimDicomString(association.getCallingAeTitle());
    const calledAeTitle = trimDicomString(association.getCalledAeTitle());
    const callers = options.allowlist.callingAeTitles;
    // PS3.8 Table 9-21. A host outside the allowlist gets the same answer as an unknown AE title: the
    // protocol has no better reason, and a stranger learns nothing more.
    if (!this.context.isHostAllowed(this.connection.remoteAddress) || (callers !== '*' && !callers.includes(callingAeTitle))) {
      return this.reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
    }
    if (calledAeTitle !== options.aeTitle) {
      return this.reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
    }
    if (this.context.isStopping()) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.TemporaryCongestion);
    }
    if (this.context.associations() >= (options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS)) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
    }
    if (!(await this.context.hasFreeDisk())) {
      return this.reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
    }
    this.connection.callingAeTitle = callingAeTitle;
    this.connection.associated = true;
    this.connection.calledAeTitle = calledAeTitle;
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
    this.sendAssociationReleaseResponse();
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

  /** dcmjs-dimse never pauses the socket; pause it while the spill file is behind, so memory stays bounded. */
  private applyBackpressure(stream: Writable): void {
    const { socket } = this.connection;
    const onData = (): void => {
      if (!stream.writableNeedDrain || socket.isPaused()) return;
      socket.pause();
      const resume = (): void => {
        stream.off('drain', resume);
        stream.off('close', resume);
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
    const closed = upload?.closed ?? Promise.resolve();
    this.context.track(
      closed.then(() => {
        try {
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
        }),
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
  private readonly logger: Logger | undefined;
  private server: NetServer | undefined;
  private stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly inFlight = new Set<Promise<unknown>>();

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
    this.options = options;
    this.maxPduLength = maxPduLength;
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
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, context));
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
      isHostAllowed: this.isHostAllowed,
      isStopping: () => this.stopping,
      associations: () => [...this.connections].filter((c) => c.associated).length,
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

  private accept(socket: Socket, context: ReceiverContext): void {
    // Connections that never associate (a port scan, a stuck peer) cannot pile up without bound.
    if (this.stopping || this.connections.size >= 2 * (this.options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS)) {
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      remoteAddress: normalizeRemoteAddress(socket.remoteAddress ?? ''),
      callingAeTitle: '',
      calledAeTitle: '',
      associated: false,
      uploads: new Set(),
    };
    // Registered before dcmjs-dimse's own 'data' listener, so a forged PDU header is caught first.
    const guard = new PduGuard(this.maxPduLength);
    socket.on('data', (chunk: Buffer) => {
      if (!guard.accept(chunk)) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.connections.delete(connection);
      for (const upload of connection.uploads) {
        if (upload.handedOver) continue;
        upload.stream.destroy();
        const sink = upload.sink;
        if (sink !== undefined) this.track(upload.closed.then(() => sink.discard()));
      }
      connection.uploads.clear();
    });
    this.connections.add(connection);
    try {
      // The bundled typings lose the event-emitter base (its types package is not installed).
      const scp = new ReceiverScp(connection, context) as unknown as { on(event: 'networkError', listener: () => void): void };
      scp.on('networkError', () => socket.destroy());
    } catch {
      socket.destroy();
    }
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
