import type { Incidents } from './incidents.js';
import type { DeploymentMonitoring } from './monitoring.js';

/** Production monitoring and incidents as a process holds them (composition/monitoring.ts builds them). */
export interface MonitoringParts {
  readonly monitoring: DeploymentMonitoring;
  readonly incidents: Incidents;
  /** Prometheus lines for /api/metrics: each detector's statistic and threshold, and open incidents. */
  metricLines(): Promise<readonly string[]>;
  /** Waits for queued webhook notices (tests, shutdown). */
  notified(): Promise<void>;
  close(): Promise<void>;
}
