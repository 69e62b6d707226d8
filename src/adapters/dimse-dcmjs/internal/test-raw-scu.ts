/**
 * Test helpers: a minimal C-STORE SCU that writes PDUs by hand (PS3.8 Section 9.3, PS3.7 Section 9.3.1),
 * so tests can send data-set bytes exactly as they are in a file (no re-encoding by a toolkit), send
 * syntaxes DCMTK 3.6.7 does not know (HTJ2K), and send broken PDUs. Also a Part 10 meta reader.
 */
import { connect, type Socket } from 'node:net';

export interface Part10Info {
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Where the data set starts: the end of group 0002. */
  readonly datasetOffset: number;
  /** Raw values of group 0002 elements, keyed by 8 hex digits. */
  readonly meta: ReadonlyMap<string, Buffer>;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const text = (value: Buffer | undefined): string => (value ?? Buffer.alloc(0)).toString('latin1').replace(/[\0 ]+$/, '');

export function readPart10(bytes: Buffer): Part10Info {
  if (bytes.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 file');
  const meta = new Map<string, Buffer>();
  let offset = 132;
  while (offset + 8 <= bytes.length && bytes.readUInt16LE(offset) === 0x0002) {
    const tag = `0002${bytes
      .readUInt16LE(offset + 2)
      .toString(16)
      .padStart(4, '0')}`;
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    const long = LONG_VRS.has(vr);
    const length = long ? bytes.readUInt32LE(offset + 8) : bytes.readUInt16LE(offset + 6);
    const start = offset + (long ? 12 : 8);
    meta.set(tag, bytes.subarray(start, start + length));
    offset = start + length;
  }
  return {
    transferSyntaxUid: text(meta.get('00020010')),
    sopClassUid: text(meta.get('00020002')),
    sopInstanceUid: text(meta.get('00020003')),
    datasetOffset: offset,
    meta,
  };
}

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

const ae = (title: string): Buffer => Buffer.from(title.padEnd(16, ' '), 'latin1');
const uid = (value: string): Buffer => Buffer.from(value, 'latin1');

export function associateRequest(
  callingAe: string,
  calledAe: string,
  contexts: readonly { abstractSyntax: string; transferSyntaxes: readonly string[] }[],
): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  ae(calledAe).copy(fixed, 4);
  ae(callingAe).copy(fixed, 20);
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(65_536, 0);
  return pdu(
    0x01,
    Buffer.concat([
      fixed,
      item(0x10, uid('1.2.840.10008.3.1.1.1')),
      ...contexts.map((context, index) =>
        item(
          0x20,
          Buffer.concat([
            Buffer.from([index * 2 + 1, 0, 0, 0]),
            item(0x30, uid(context.abstractSyntax)),
            ...context.transferSyntaxes.map((ts) => item(0x40, uid(ts))),
          ]),
        ),
      ),
      item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, uid('1.2.3.4'))])),
    ]),
  );
}

function implicitElement(group: number, element: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

const us = (value: number): Buffer => {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value, 0);
  return buffer;
};
const evenUid = (value: string): Buffer => Buffer.from(value.length % 2 === 0 ? value : `${value}\0`, 'latin1');

export function storeCommand(messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  const body = Buffer.concat([
    implicitElement(0x0000, 0x0002, evenUid(sopClassUid)),
    implicitElement(0x0000, 0x0100, us(0x0001)),
    implicitElement(0x0000, 0x0110, us(messageId)),
    implicitElement(0x0000, 0x0700, us(0)),
    implicitElement(0x0000, 0x0800, us(0x0000)),
    implicitElement(0x0000, 0x1000, evenUid(sopInstanceUid)),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([implicitElement(0x0000, 0x0000, length), body]);
}

export function pDataTf(contextId: number, isCommand: boolean, isLast: boolean, value: Buffer): Buffer {
  const pdvLength = Buffer.alloc(4);
  pdvLength.writeUInt32BE(value.length + 2, 0);
  return pdu(0x04, Buffer.concat([pdvLength, Buffer.from([contextId, (isCommand ? 1 : 0) | (isLast ? 2 : 0)]), value]));
}

/** Reads whole PDUs from a socket. */
class PduReader {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((pdu: { type: number; body: Buffer } | undefined) => void)[] = [];
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.flush();
    });
    const end = (): void => {
      this.ended = true;
      this.flush();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  private flush(): void {
    while (this.waiting.length > 0) {
      if (this.buffered.length >= 6 && this.buffered.length >= 6 + this.buffered.readUInt32BE(2)) {
        const length = this.buffered.readUInt32BE(2);
        const next = { type: this.buffered.readUInt8(0), body: this.buffered.subarray(6, 6 + length) };
        this.buffered = this.buffered.subarray(6 + length);
        this.waiting.shift()?.(next);
      } else if (this.ended) this.waiting.shift()?.(undefined);
      else return;
    }
  }

  next(): Promise<{ type: number; body: Buffer } | undefined> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.flush();
    });
  }
}

export type RawStoreResult =
  | { readonly kind: 'status'; readonly status: number; readonly errorComment?: string }
  | { readonly kind: 'rejected'; readonly result: number; readonly source: number; readonly reason: number }
  | { readonly kind: 'context-refused'; readonly result: number }
  | { readonly kind: 'closed' };

/** Reads the Status (0000,0900) and Error Comment (0000,0902) of an implicit VR LE command set carried in one P-DATA-TF. */
function statusOf(body: Buffer): { status: number; errorComment?: string } | undefined {
  const command = body.subarray(6);
  let offset = 0;
  let status: number | undefined;
  let errorComment: string | undefined;
  while (offset + 8 <= command.length) {
    const group = command.readUInt16LE(offset);
    const element = command.readUInt16LE(offset + 2);
    const length = command.readUInt32LE(offset + 4);
    if (group === 0x0000 && element === 0x0900) status = command.readUInt16LE(offset + 8);
    if (group === 0x0000 && element === 0x0902) errorComment = text(command.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return status === undefined ? undefined : { status, ...(errorComment === undefined ? {} : { errorComment }) };
}

/** Associates, sends one C-STORE with `dataset` cut into PDVs of `fragmentBytes`, reads the status, releases. */
export async function sendRawStore(
  port: number,
  request: {
    readonly callingAe: string;
    readonly calledAe: string;
    readonly sopClassUid: string;
    readonly sopInstanceUid: string;
    readonly transferSyntaxUid: string;
    readonly dataset: Buffer;
    readonly fragmentBytes?: number;
    /** Pause between data-set PDUs (a slow sender). */
    readonly fragmentDelayMs?: number;
    /** Source address, e.g. '127.0.0.2' to play another host. */
    readonly localAddress?: string;
  },
): Promise<RawStoreResult> {
  const socket = connect({ host: '127.0.0.1', port, ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }) });
  socket.setNoDelay(true);
  const reader = new PduReader(socket);
  try {
    socket.write(
      associateRequest(request.callingAe, request.calledAe, [{ abstractSyntax: request.sopClassUid, transferSyntaxes: [request.transferSyntaxUid] }]),
    );
    const answer = await reader.next();
    if (answer === undefined) return { kind: 'closed' };
    if (answer.type === 0x03) return { kind: 'rejected', result: answer.body.readUInt8(1), source: answer.body.readUInt8(2), reason: answer.body.readUInt8(3) };
    // Presentation context item 0x21 after the 68 fixed bytes and the application context item.
    let offset = 68;
    let result = -1;
    while (offset + 4 <= answer.body.length) {
      const type = answer.body.readUInt8(offset);
      const length = answer.body.readUInt16BE(offset + 2);
      if (type === 0x21) result = answer.body.readUInt8(offset + 6);
      offset += 4 + length;
    }
    if (result !== 0) return { kind: 'context-refused', result };
    socket.write(pDataTf(1, true, true, storeCommand(1, request.sopClassUid, request.sopInstanceUid)));
    const fragment = request.fragmentBytes ?? 16_000;
    for (let start = 0; start < request.dataset.length || start === 0; start += fragment) {
      const end = Math.min(request.dataset.length, start + fragment);
      socket.write(pDataTf(1, false, end >= request.dataset.length, request.dataset.subarray(start, end)));
      if (end >= request.dataset.length) break;
      if (request.fragmentDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, request.fragmentDelayMs));
    }
    const response = await reader.next();
    const status = response?.type === 0x04 ? statusOf(response.body) : undefined;
    socket.write(pdu(0x05, Buffer.alloc(4)));
    await reader.next();
    return status === undefined ? { kind: 'closed' } : { kind: 'status', ...status };
  } finally {
    socket.destroy();
  }
}

export interface NegotiatedContext {
  /** PS3.8 Table 9-18: 0 acceptance, 3 abstract syntax not supported, 4 transfer syntaxes not supported. */
  readonly result: number;
  readonly transferSyntax: string;
}

/**
 * Proposes up to 128 presentation contexts (ids 1, 3, 5, …, in the order given) and returns the answer for
 * each id, then releases; `undefined` when the association was rejected or the connection closed.
 */
export async function negotiate(
  port: number,
  calledAe: string,
  contexts: readonly { abstractSyntax: string; transferSyntaxes: readonly string[] }[],
): Promise<Map<number, NegotiatedContext> | undefined> {
  const socket = connect({ host: '127.0.0.1', port });
  const reader = new PduReader(socket);
  try {
    socket.write(associateRequest('NEGOTIATE', calledAe, contexts));
    const answer = await reader.next();
    if (answer?.type !== 0x02) return undefined;
    const results = new Map<number, NegotiatedContext>();
    let offset = 68;
    while (offset + 4 <= answer.body.length) {
      const type = answer.body.readUInt8(offset);
      const length = answer.body.readUInt16BE(offset + 2);
      if (type === 0x21) {
        // Item: id, reserved, result, reserved, then one transfer syntax sub-item (0x40).
        const subLength = answer.body.readUInt16BE(offset + 10);
        const transferSyntax = answer.body.toString('latin1', offset + 12, offset + 12 + subLength).replace(/[\0 ]+$/, '');
        results.set(answer.body.readUInt8(offset + 4), { result: answer.body.readUInt8(offset + 6), transferSyntax });
      }
      offset += 4 + length;
    }
    socket.write(pdu(0x05, Buffer.alloc(4)));
    await reader.next();
    return results;
  } finally {
    socket.destroy();
  }
}
