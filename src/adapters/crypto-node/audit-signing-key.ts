import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { isValidSignature, startSignatureBatch, type SignatureBatch, type SignatureBatchOptions } from './internal/signature-batch.js';

export const AUDIT_SIGNING_KEY_FILE = 'audit-signing-key.pem';

/** Signs and checks tree heads (Ed25519). */
export interface AuditSigningKey {
  /** SPKI DER, base64: what `SignedTreeHead.publicKey` carries. */
  readonly publicKeyBase64: string;
  /** The same public key as SPKI PEM: what an operator publishes (`vigil audit public-key`) and a verifier is given. */
  readonly publicKeyPem: string;
  sign(message: Uint8Array): Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
  /** Checks many signatures, in a worker thread past the first few thousand (see internal/signature-batch.ts). */
  startBatch(options?: SignatureBatchOptions): SignatureBatch;
}

/** An Ed25519 key held in memory only: for tests, or a caller that keeps the key elsewhere. */
export function createAuditSigningKey(privateKey: KeyObject = generateKeyPairSync('ed25519').privateKey): AuditSigningKey {
  return new Ed25519AuditSigningKey(privateKey);
}

/**
 * Loads the tree-head signing key from `<dataDir>/audit-signing-key.pem`, creating it (owner-only
 * 0600) when it is missing and `allowCreate` is set. The file holds the PKCS#8 private key and, for
 * an operator to publish, the SPKI public key; both PEM.
 *
 * Pass `allowCreate: false` once the log holds signed tree heads: a lost key must stop the log, not
 * be silently replaced (every earlier signature would then fail to verify, and a fresh key would
 * let whoever deleted the old one re-sign a rewritten log).
 *
 * Throws `SECRET_INVALID` for a file that is unreadable, not an Ed25519 key, readable by group or
 * others, or whose public half does not match its private half; `STORE_OPEN_FAILED` when it is
 * missing and may not be created.
 */
export function loadOrCreateAuditSigningKey(dataDir: string, options: { readonly allowCreate: boolean }): AuditSigningKey {
  const file = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  const existing = statOrUndefined(file);
  if (existing === undefined) {
    if (!options.allowCreate) {
      throw new PlatformError('STORE_OPEN_FAILED', `The audit log has signed tree heads but ${AUDIT_SIGNING_KEY_FILE} is missing; restore it from backup`, {});
    }
    const created = createKeyFile(dataDir, file);
    if (created !== undefined) return created;
    // Another process created it first: fall through and read theirs.
  } else if (process.platform !== 'win32' && (existing.mode & 0o077) !== 0) {
    throw new PlatformError('SECRET_INVALID', `${AUDIT_SIGNING_KEY_FILE} is readable by group or others; make it owner-only (chmod 600)`, {
      mode: (existing.mode & 0o777).toString(8),
    });
  }
  return readKeyFile(file);
}

class Ed25519AuditSigningKey implements AuditSigningKey {
  readonly publicKeyBase64: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(privateKey: KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new PlatformError('SECRET_INVALID', 'The audit signing key must be an Ed25519 private key', {
        keyType: privateKey.asymmetricKeyType ?? privateKey.type,
      });
    }
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.publicKeyBase64 = this.#publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  }

  get publicKeyPem(): string {
    return this.#publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  get privateKeyPem(): string {
    return this.#privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  sign(message: Uint8Array): Uint8Array {
    return sign(null, message, this.#privateKey);
  }

  /** See `isValidSignature`: re-signs and compares (deterministic Ed25519), verifying only on a mismatch. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return isValidSignature(this.#privateKey, this.#publicKey, message, signature);
  }

  startBatch(options?: SignatureBatchOptions): SignatureBatch {
    return startSignatureBatch(this.#privateKey, this.#publicKey, options);
  }
}

/**
 * The public half of `<dataDir>/audit-signing-key.pem`, as SPKI PEM (never creates the key: a missing
 * file is STORE_OPEN_FAILED). What `vigil audit public-key` prints for verifiers of proofs and packs.
 */
export function readAuditPublicKeyPem(dataDir: string): string {
  if (statOrUndefined(join(dataDir, AUDIT_SIGNING_KEY_FILE)) === undefined) {
    throw new PlatformError(
      'STORE_OPEN_FAILED',
      `This data folder holds no ${AUDIT_SIGNING_KEY_FILE} (no audit log was written here): give the public key of the installation that made the log`,
      {},
    );
  }
  return loadOrCreateAuditSigningKey(dataDir, { allowCreate: false }).publicKeyPem;
}

function createKeyFile(dataDir: string, file: string): Ed25519AuditSigningKey | undefined {
  const key = new Ed25519AuditSigningKey(generateKeyPairSync('ed25519').privateKey);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Write and sync a temporary file, then link it into place: the key file appears whole or not at
    // all (a crash mid-write must not leave a truncated key), and link, unlike rename, fails if a
    // concurrent process got there first instead of replacing its key.
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, key.privateKeyPem + key.publicKeyPem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, file);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw cause;
    }
    syncDirectory(dataDir);
    return key;
  } catch (cause) {
    throw new PlatformError('SECRET_INVALID', `Could not create ${AUDIT_SIGNING_KEY_FILE}`, {}, { cause });
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Already gone or never created.
    }
  }
}

function readKeyFile(file: string): AuditSigningKey {
  let key: Ed25519AuditSigningKey;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
    key = new Ed25519AuditSigningKey(createPrivateKey({ key: text, format: 'pem' }));
  } catch (cause) {
    if (cause instanceof PlatformError) throw cause;
    throw new PlatformError('SECRET_INVALID', `${AUDIT_SIGNING_KEY_FILE} does not hold a PEM private key`, {}, { cause });
  }
  const publicBlock = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(text)?.[0];
  if (publicBlock !== undefined && publicBlock.replace(/\s+/g, '') !== key.publicKeyPem.replace(/\s+/g, '')) {
    throw new PlatformError('SECRET_INVALID', `The public key in ${AUDIT_SIGNING_KEY_FILE} does not belong to its private key`, {});
  }
  return key;
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlatformError('SECRET_INVALID', `Could not read ${AUDIT_SIGNING_KEY_FILE}`, {}, { cause });
  }
}

/** Makes a new directory entry durable (POSIX: fsync the directory). Not possible on Windows; skipped there. */
function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
