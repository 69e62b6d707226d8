/**
 * Who holds the receiver's connections, counted per host and in total, so that the association limit is
 * exact and no single host can take every slot.
 *
 * A connection is `pending` from TCP accept until its association is accepted, and again once the
 * association has ended (A-ASSOCIATE-RJ or A-RELEASE-RP sent, A-ABORT sent) until the socket closes: the
 * handshakes of PS3.8 Sta2/Sta3 and Sta13. It is `associated` in between (Sta6). Every transition is
 * synchronous: the slot is taken in the same tick as the check, so two requests arriving together cannot
 * both see the last free slot.
 */
export interface SlotLimits {
  /** Associations open at once, over all hosts. */
  readonly maxAssociations: number;
  /** Associations open at once from one host. */
  readonly maxAssociationsPerHost: number;
  /** Connections not associated (opening or closing), over all hosts. */
  readonly maxPending: number;
  /** Connections not associated from one host. */
  readonly maxPendingPerHost: number;
}

export type SlotState = 'pending' | 'associated';

interface HostCount {
  pending: number;
  associated: number;
}

export class ConnectionSlots {
  private readonly hosts = new Map<string, HostCount>();
  private pending = 0;
  private associated = 0;

  constructor(private readonly limits: SlotLimits) {}

  /** At TCP accept: takes a pending slot, or answers false (the caller closes the socket unread). */
  admit(host: string): boolean {
    const count = this.hosts.get(host);
    if (this.pending >= this.limits.maxPending || (count?.pending ?? 0) >= this.limits.maxPendingPerHost) return false;
    this.pending += 1;
    if (count === undefined) this.hosts.set(host, { pending: 1, associated: 0 });
    else count.pending += 1;
    return true;
  }

  /** At A-ASSOCIATE-RQ: turns the host's pending slot into an association slot, or answers false (local limit exceeded). */
  associate(host: string): boolean {
    const count = this.hosts.get(host);
    if (count === undefined || count.pending === 0) throw new Error('associate() without a pending slot');
    if (this.associated >= this.limits.maxAssociations || count.associated >= this.limits.maxAssociationsPerHost) return false;
    count.pending -= 1;
    count.associated += 1;
    this.pending -= 1;
    this.associated += 1;
    return true;
  }

  /** The association ended (or was not confirmed after all); the connection is closing and counts as pending until it closes. */
  endAssociation(host: string): void {
    const count = this.hosts.get(host);
    if (count === undefined || count.associated === 0) throw new Error('endAssociation() without an association slot');
    count.associated -= 1;
    count.pending += 1;
    this.associated -= 1;
    this.pending += 1;
  }

  /** The socket closed: frees whatever slot it held. */
  release(host: string, state: SlotState): void {
    const count = this.hosts.get(host);
    if (count === undefined || count[state] === 0) throw new Error('release() of a slot not held');
    count[state] -= 1;
    if (state === 'pending') this.pending -= 1;
    else this.associated -= 1;
    if (count.pending === 0 && count.associated === 0) this.hosts.delete(host);
  }

  counts(host?: string): { readonly pending: number; readonly associated: number } {
    if (host === undefined) return { pending: this.pending, associated: this.associated };
    const count = this.hosts.get(host);
    return { pending: count?.pending ?? 0, associated: count?.associated ?? 0 };
  }
}
