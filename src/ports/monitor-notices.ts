/** A signed-webhook notice (adapters/webhook-http, monitor notifier): pseudonymous, no PHI. */
export type MonitoringNotice =
  | {
      readonly kind: 'alert';
      readonly alertId: string;
      readonly site: string;
      readonly versionId: string;
      readonly detector: string;
      readonly label: string;
      readonly statistic: number;
      readonly threshold: number;
      readonly incidentId: string | null;
      readonly at: string;
    }
  | {
      readonly kind: 'incident';
      readonly incidentId: string;
      readonly site: string;
      readonly versionId: string;
      readonly action: string;
      readonly state: string;
      readonly severity: string;
      readonly at: string;
    };

/** Where notices go: returns at once (a queue in front of the webhook), so judging never waits. */
export interface MonitorNotices {
  notify(notice: MonitoringNotice): void;
}
