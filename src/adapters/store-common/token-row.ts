import type { TokenRecord } from '../../ports/access-store.js';

/** An api_tokens row as both stores return it (PostgreSQL's bigint times as strings). */
// A type, not an interface: pg's query<R> needs R to be indexable.
export type TokenRow = {
  token_id: string;
  user_id: string;
  label: string;
  created_at_ms: number | string;
  last_used_at_ms: number | string | null;
  expires_at_ms: number | string | null;
  revoked_at_ms: number | string | null;
};

export const TOKEN_COLUMNS = 'token_id, user_id, label, created_at_ms, last_used_at_ms, expires_at_ms, revoked_at_ms';

/** A stored time in ms as ISO 8601, or null. */
export const isoOrNull = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function toToken(row: TokenRow): TokenRecord {
  return {
    tokenId: row.token_id,
    userId: row.user_id,
    label: row.label,
    createdAt: new Date(Number(row.created_at_ms)).toISOString(),
    lastUsedAt: isoOrNull(row.last_used_at_ms),
    expiresAt: isoOrNull(row.expires_at_ms),
    revokedAt: isoOrNull(row.revoked_at_ms),
  };
}
