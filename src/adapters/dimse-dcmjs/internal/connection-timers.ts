/**
 * The two clocks of one DICOM connection.
 *
 * ARTIM (PS3.8 Section 9.1.5, the Association Request/Reject/Release Timer): started when the TCP
 * connection is accepted (state machine action AE-5) and when an A-ASSOCIATE-RJ, A-RELEASE-RP or A-ABORT
 * has been sent (AE-8, AR-4, AA-1); stopped when the association is accepted. On expiry the transport
 * connection is closed (AA-2). It is a deadline, not an idle timer: bytes that trickle in do not move it,
 * so a peer sending one byte every few seconds cannot keep a handshake slot.
 *
 * Idle: PS3.8 has no timer for an established association that carries nothing (DCMTK calls it the DIMSE
 * timeout). It runs only while the peer owes us the next PDU, and restarts at each complete PDU (not at
 * each byte, which a trickling peer could feed forever). It is held, not running, while Vigil owes the peer
 * something: a C-STORE response whose handler is still working, or a socket paused because the spill file
 * is behind. So a transfer is never cut while data flows or while Vigil is the slow side.
 *
 * An expiry is judged one event-loop turn late (setImmediate, after the poll phase): if the loop itself
 * stalled past a deadline, the bytes the peer sent in time are read first, and count.
 */
export interface ConnectionTimerOptions {
  readonly artimMs: number;
  readonly idleMs: number;
  onArtimExpired(): void;
  onIdleExpired(): void;
}

export class ConnectionTimers {
  private artim: NodeJS.Timeout | undefined;
  /** Changes whenever ARTIM is started or stopped, so a late expiry of an older one is ignored. */
  private artimGeneration = 0;
  private idle: NodeJS.Timeout | undefined;
  private idleRunning = false;
  private holds = 0;
  private pdus = 0;

  constructor(private readonly options: ConnectionTimerOptions) {}

  /** (Re)starts ARTIM from now. */
  startArtim(): void {
    clearTimeout(this.artim);
    const generation = (this.artimGeneration += 1);
    this.artim = setTimeout(() => {
      setImmediate(() => {
        if (generation !== this.artimGeneration) return;
        this.artim = undefined;
        this.options.onArtimExpired();
      });
    }, this.options.artimMs);
  }

  stopArtim(): void {
    clearTimeout(this.artim);
    this.artim = undefined;
    this.artimGeneration += 1;
  }

  /** The association is established: from now on the peer must keep sending PDUs while it owes one. */
  startIdle(): void {
    this.idleRunning = true;
    this.armIdle();
  }

  stopIdle(): void {
    this.idleRunning = false;
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** A complete PDU arrived from the peer. */
  pduReceived(): void {
    this.pdus += 1;
    // Also re-activates a timer that fired in this very turn, before its expiry was judged.
    this.idle?.refresh();
  }

  /** While Vigil owes the peer something, the idle timer waits; call the returned function (once or more) when done. */
  hold(): () => void {
    this.holds += 1;
    clearTimeout(this.idle);
    this.idle = undefined;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      this.armIdle();
    };
  }

  clear(): void {
    this.stopArtim();
    this.stopIdle();
  }

  private armIdle(): void {
    if (!this.idleRunning || this.holds > 0) return;
    clearTimeout(this.idle);
    const timer = setTimeout(() => {
      const pdus = this.pdus;
      setImmediate(() => {
        // Stopped, held or replaced meanwhile, or a PDU was read after all (refresh() re-armed it).
        if (timer !== this.idle || !this.idleRunning || this.holds > 0 || pdus !== this.pdus) return;
        this.idle = undefined;
        this.options.onIdleExpired();
      });
    }, this.options.idleMs);
    this.idle = timer;
  }
}
