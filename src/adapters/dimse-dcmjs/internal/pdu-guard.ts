/**
 * Watches the raw byte stream of an association for PDU headers (PS3.8 Section 9.3: type, reserved, 32-bit
 * big-endian length) before dcmjs-dimse buffers it. dcmjs-dimse trusts the declared length and keeps
 * concatenating chunks until it has that many bytes, so one forged header could make it hold up to 4 GiB.
 * The guard refuses unknown PDU types and any PDU longer than allowed, and the caller drops the connection.
 * It also counts complete PDUs, which is what the idle timer watches (internal/connection-timers.ts).
 */
const HEADER_LENGTH = 6;
const P_DATA_TF = 0x04;
/** A-ASSOCIATE-RQ with 128 presentation contexts of many transfer syntaxes stays far below this. */
const MAX_CONTROL_PDU_LENGTH = 1 << 20;

export class PduGuard {
  private readonly header = Buffer.alloc(HEADER_LENGTH);
  private headerFill = 0;
  private remaining = 0;
  /** PDUs received in full so far. */
  completed = 0;

  constructor(private readonly maxDataPduLength: number) {}

  /** False as soon as the stream holds a PDU that must not be accepted. */
  accept(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const skipped = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skipped;
        offset += skipped;
        if (this.remaining === 0) this.completed += 1;
        continue;
      }
      const copied = chunk.copy(this.header, this.headerFill, offset, Math.min(chunk.length, offset + HEADER_LENGTH - this.headerFill));
      this.headerFill += copied;
      offset += copied;
      if (this.headerFill < HEADER_LENGTH) return true;
      this.headerFill = 0;
      const type = this.header.readUInt8(0);
      const length = this.header.readUInt32BE(2);
      if (type < 0x01 || type > 0x07) return false;
      if (length > (type === P_DATA_TF ? this.maxDataPduLength : MAX_CONTROL_PDU_LENGTH)) return false;
      this.remaining = length;
      if (length === 0) this.completed += 1;
    }
    return true;
  }
}
