/**
 * C-STORE SCU on dcmjs-dimse 0.3.3 (the library's Client): one association per instance, closed after
 * the response. Used to send result SRs, which Vigil writes itself (no private elements for the library's
 * re-encoding to lose). Nothing here logs or throws a UID, an AE title or a host.
 */
import dimse from 'dcmjs-dimse';
import { PlatformError } from '../../domain/errors.js';
import type { DicomDestination, DicomResultSender } from '../../ports/result-destinations.js';

const { Client, Dataset, requests, log } = dimse;
log.setLevel('silent');

/**
 * The typings declare the event methods through async-event-emitter2, whose types do not resolve here
 * (as in the receiver): the two listeners used are typed locally and added to the declared types.
 */
type Listening<Events extends string> = { on(event: Events, listener: (arg: never) => void): void };

/** PS3.4 B.2.3: 0000 success; Bxxx warnings (coercion, elements discarded): the instance was stored. */
function isStored(status: number): boolean {
  return status === 0x0000 || (status & 0xf000) === 0xb000;
}

export interface DimseDcmjsSenderOptions {
  readonly destination: DicomDestination;
  /** Our AE title (VIGIL_DICOM_AE_TITLE). */
  readonly callingAeTitle: string;
  /** Connect, association and PDU timeouts. */
  readonly timeoutMs: number;
}

export class DimseDcmjsSender implements DicomResultSender {
  constructor(private readonly options: DimseDcmjsSenderOptions) {}

  send(part10: Uint8Array): Promise<void> {
    const { destination, callingAeTitle, timeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      let status: number | undefined;
      let failure: PlatformError | undefined;
      let request;
      try {
        request = new requests.CStoreRequest(datasetOf(part10));
      } catch (cause) {
        reject(new PlatformError('RESULT_DELIVERY_FAILED', 'The result could not be prepared for C-STORE', {}, { cause }));
        return;
      }
      (request as typeof request & Listening<'response'>).on('response', (response: { getStatus(): number }) => {
        status = response.getStatus();
      });
      const client = new Client();
      const events = client as typeof client & Listening<'associationRejected' | 'networkError' | 'closed'>;
      events.on('associationRejected', () => {
        failure = new PlatformError('RESULT_DELIVERY_FAILED', 'The DICOM destination rejected the association', {});
      });
      events.on('networkError', (cause: unknown) => {
        failure ??= new PlatformError('RESULT_DELIVERY_FAILED', 'The DICOM destination could not be reached', {}, { cause });
      });
      events.on('closed', () => {
        if (status !== undefined && isStored(status)) resolve();
        else if (status !== undefined) reject(new PlatformError('RESULT_DELIVERY_FAILED', 'The DICOM destination refused the result', { dimseStatus: status }));
        else reject(failure ?? new PlatformError('RESULT_DELIVERY_FAILED', 'The DICOM destination closed the association without answering', {}));
      });
      client.addRequest(request);
      client.send(destination.host, destination.port, callingAeTitle, destination.aeTitle, {
        connectTimeout: timeoutMs,
        associationTimeout: timeoutMs,
        pduTimeout: timeoutMs,
      });
    });
  }
}

/**
 * The dataset of a Part 10 file, as dcmjs-dimse holds it: the File Meta group (PS3.10 7.1, always
 * Explicit VR Little Endian) is walked for its Transfer Syntax UID and skipped.
 */
function datasetOf(part10: Uint8Array): InstanceType<typeof Dataset> {
  const view = new DataView(part10.buffer, part10.byteOffset, part10.byteLength);
  const latin1 = { decode: (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') };
  let position = 132;
  let transferSyntaxUid: string | undefined;
  while (position + 8 <= part10.length && view.getUint16(position, true) === 0x0002) {
    const element = view.getUint16(position + 2, true);
    const vr = latin1.decode(part10.subarray(position + 4, position + 6));
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr);
    const length = long ? view.getUint32(position + 8, true) : view.getUint16(position + 6, true);
    const valueStart = position + (long ? 12 : 8);
    if (element === 0x0010) transferSyntaxUid = latin1.decode(part10.subarray(valueStart, valueStart + length)).replace(/[\0 ]+$/, '');
    position = valueStart + length;
  }
  if (transferSyntaxUid === undefined || position > part10.length) throw new PlatformError('RESULT_DELIVERY_FAILED', 'The result is not a Part 10 file', {});
  return new Dataset(Buffer.from(part10.subarray(position)), transferSyntaxUid);
}
