import type { Incident, IncidentState } from '../domain/incident/incident.js';

/**
 * Incidents (domain/incident/incident.ts), shared by every server of the store. At most one incident
 * per deployment (site × version) is not resolved at a time: a second `create` for it is refused, so
 * two servers raising alerts at once join one incident.
 */
export interface IncidentStore {
  get(incidentId: string): Promise<Incident | undefined>;
  /** The deployment's incident that is not resolved, if any. */
  openFor(site: string, versionId: string): Promise<Incident | undefined>;
  /** Newest first, filtered by state or site when given. */
  list(filter: { readonly state?: IncidentState; readonly site?: string; readonly limit: number }): Promise<readonly Incident[]>;
  /** Stores a new incident (revision 1): false when its deployment has an unresolved one already (nothing written). */
  create(incident: Incident): Promise<boolean>;
  /** Writes `next` only over revision `next.revision - 1`: false when another change came first. */
  compareAndSet(next: Incident): Promise<boolean>;
  /** Unresolved incidents per severity (for metrics). */
  countOpen(): Promise<{ readonly medium: number; readonly high: number }>;
}
