import { describe, expect, it } from 'vitest';
import { PduGuard } from './pdu-guard.js';

const header = (type: number, length: number): Buffer => {
  const bytes = Buffer.alloc(6);
  bytes.writeUInt8(type, 0);
  bytes.writeUInt32BE(length, 2);
  return bytes;
};

describe('PduGuard', () => {
  it('accepts well-formed PDUs split anywhere, including inside a header', () => {
    const stream = Buffer.concat([header(0x01, 10), Buffer.alloc(10), header(0x04, 100), Buffer.alloc(100), header(0x05, 4), Buffer.alloc(4)]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const guard = new PduGuard(100);
      expect(guard.accept(stream.subarray(0, cut)) && guard.accept(stream.subarray(cut)), `cut at ${cut}`).toBe(true);
      expect(guard.completed).toBe(3);
    }
  });

  it('counts a PDU only once its last byte is in, however it trickles', () => {
    const stream = Buffer.concat([header(0x01, 3), Buffer.alloc(3), header(0x05, 0)]);
    const guard = new PduGuard(100);
    const seen = [...stream].map((byte) => {
      guard.accept(Buffer.from([byte]));
      return guard.completed;
    });
    expect(seen).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2]);
  });

  it('refuses an unknown PDU type', () => {
    expect(new PduGuard(100).accept(Buffer.from('GET / HTTP/1.1'))).toBe(false);
    expect(new PduGuard(100).accept(header(0x00, 0))).toBe(false);
    expect(new PduGuard(100).accept(header(0x08, 0))).toBe(false);
  });

  it('refuses a P-DATA-TF longer than the negotiated maximum and any other PDU over 1 MiB', () => {
    expect(new PduGuard(100).accept(header(0x04, 101))).toBe(false);
    expect(new PduGuard(100).accept(header(0x01, (1 << 20) + 1))).toBe(false);
    expect(new PduGuard(100).accept(header(0x01, 1 << 20))).toBe(true);
  });
});
