/**
 * Bytes as a string of code points 0–255, one per byte, and back (`encodeText` in deid-codec.ts): the
 * de-identifier carries text values it does not change byte for byte, whatever their character set.
 * Not `new TextDecoder('latin1')`: the Encoding Standard maps that label to windows-1252, which turns
 * bytes 0x80–0x9F into other code points (Node ≥ 23 follows it), so a UTF-8 name would be corrupted.
 */
export function latin1String(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
