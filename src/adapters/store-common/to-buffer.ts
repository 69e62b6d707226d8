// Shared by store-sqlite and store-postgres: both hand byte columns (BLOB / bytea) to their driver as Buffers.

/** The same bytes as a Buffer, without copying. */
export const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
