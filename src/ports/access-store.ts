import type { Principal, Role } from '../domain/access/roles.js';

export interface UserRecord {
  readonly userId: string;
  /** A login name chosen by the site (staff identity, not patient data). */
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface IssuedToken {
  readonly tokenId: string;
  /** The bearer secret, shown once; only its hash is stored. */
  readonly secret: string;
}

/** Users and API tokens. Tokens are random 256-bit secrets; the store keeps only their SHA-256. */
export interface AccessStore {
  createUser(name: string, role: Role): Promise<UserRecord>;
  listUsers(): Promise<readonly UserRecord[]>;
  countUsers(): Promise<number>;
  issueToken(userId: string, label: string): Promise<IssuedToken>;
  /** The principal for a bearer secret, or undefined (unknown, revoked, or its user disabled). */
  authenticate(secret: string): Promise<Principal | undefined>;
  revokeToken(tokenId: string): Promise<boolean>;
}
