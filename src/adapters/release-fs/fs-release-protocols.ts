import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { prettifyError } from 'zod';
import { canonicalJson } from '../../domain/audit/canonical-json.js';
import { PlatformError } from '../../domain/errors.js';
import { releaseProtocolSchema, type ChangeType } from '../../domain/release/release-protocol.js';
import type { PinnedProtocol, ReleaseProtocols } from '../../ports/release-protocols.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';

/** A protocol is a page of JSON. */
const PROTOCOL_MAX_BYTES = 1024 * 1024;

/** A protocol file's text, bounded (files-fs/read-bounded-file.ts); undefined when there is none, RELEASE_PROTOCOL_INVALID when it cannot be read. */
async function readProtocol(path: string, changeType: ChangeType): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await readRegularFile(path, 'release protocol file', PROTOCOL_MAX_BYTES));
  } catch (cause) {
    if (cause instanceof PlatformError && cause.code === 'INPUT_NOT_FOUND') return undefined;
    throw invalid(cause instanceof PlatformError ? cause.message : 'The release protocol file cannot be read', changeType);
  }
}

/**
 * Release protocols as files, `<changeType>.json`: a site's folder (VIGIL_RELEASE_PROTOCOLS_DIR) first,
 * then the bundled `config/release-protocols/`. Each is validated, and pinned by the SHA-256 of its
 * canonical JSON (so reformatting a file does not change its pin; changing any value does). Read on
 * each request: a protocol edited on disk applies to the next request, never to one made already.
 */
export class FsReleaseProtocols implements ReleaseProtocols {
  constructor(private readonly folders: { readonly bundled: string; readonly site?: string }) {}

  async get(changeType: ChangeType): Promise<PinnedProtocol> {
    const file = `${changeType}.json`;
    let text: string | undefined;
    if (this.folders.site !== undefined) text = await readProtocol(join(this.folders.site, file), changeType);
    text ??= await readProtocol(join(this.folders.bundled, file), changeType);
    if (text === undefined) throw invalid(`No release protocol for change type ${changeType} (${file})`, changeType);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalid(`The release protocol ${file} is not valid JSON`, changeType);
    }
    const parsed = releaseProtocolSchema.safeParse(json);
    if (!parsed.success) throw invalid(`The release protocol ${file} is invalid:\n${prettifyError(parsed.error)}`, changeType);
    if (parsed.data.changeType !== changeType) throw invalid(`The release protocol ${file} is for change type ${parsed.data.changeType}`, changeType);
    return { protocol: parsed.data, sha256: createHash('sha256').update(canonicalJson(parsed.data)).digest('hex') };
  }
}

const invalid = (message: string, changeType: string): PlatformError => new PlatformError('RELEASE_PROTOCOL_INVALID', message, { changeType });
