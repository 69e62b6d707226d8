import { parentPort, workerData } from 'node:worker_threads';
import { designDeploymentPlan } from '../../domain/monitoring/deployment-plan.js';
import { encodeMonitorPlan } from '../../domain/monitoring/monitor-snapshot.js';
import type { DesignRequest } from './design-on-worker.js';

// One design per worker: the thread exits when it has posted the plan (encoded, as the store keeps it).
const request = workerData as DesignRequest;
parentPort?.postMessage(
  encodeMonitorPlan(
    designDeploymentPlan(new Map(Object.entries(request.reference)), request.design, request.guarantee, request.signals, request.embedding, request.review),
  ),
);
