import type { ChangeType, ReleaseProtocol } from '../domain/release/release-protocol.js';

/** A protocol with its pin: the SHA-256 of its canonical JSON (domain/audit/canonical-json.ts). */
export interface PinnedProtocol {
  readonly protocol: ReleaseProtocol;
  readonly sha256: string;
}

/** The protocol in force for each change type (bundled, or a site's own folder). */
export interface ReleaseProtocols {
  /** Throws RELEASE_PROTOCOL_INVALID when the change type's protocol is missing or malformed. */
  get(changeType: ChangeType): Promise<PinnedProtocol>;
}
