import { describeMonitorStore } from '../../ports/monitor-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresIncidentStore } from './postgres-incident-store.js';
import { PostgresMonitorStore } from './postgres-monitor-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeMonitorStore('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const first = await schema.open();
    const second = await schema.open();
    return {
      store: new PostgresMonitorStore(first),
      second: new PostgresMonitorStore(second),
      incidents: new PostgresIncidentStore(first),
      secondIncidents: new PostgresIncidentStore(second),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('MonitorStore and IncidentStore contract: PostgreSQL');
}
