import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasPermission } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import { INCIDENT_ID_PATTERN, type IncidentAction } from '../../domain/incident/incident.js';
import type { MonitoringParts } from '../../workflows/monitoring-parts.js';
import type { SystemSummary } from '../../workflows/system-summary.js';
import {
  incidentActionBodySchemas,
  incidentDetailSchema,
  incidentListQuerySchema,
  incidentListSchema,
  incidentSchema,
  listQuerySchema,
  monitorAlertListSchema,
  monitorCasesPageSchema,
  monitorCasesQuerySchema,
  monitoringDetailQuerySchema,
  monitoringDetailSchema,
  monitoringOverviewSchema,
  siteIdSchema,
} from '../contract.js';
import { jsonBody } from '../route-body.js';
import { principalOf, userActorOf } from '../route-config.js';

/** What the monitoring and incident routes use, and nothing else. */
export interface MonitoringRouteOptions {
  readonly monitoring: () => Promise<MonitoringParts>;
  /** The health page's numbers (workflows/system-summary.ts): the operations signals beside the monitors. */
  readonly systemSummary: () => Promise<SystemSummary>;
}

const siteParams = z.object({ site: siteIdSchema });
const incidentParams = z.object({ incidentId: z.string().regex(INCIDENT_ID_PATTERN, 'an incident id (inc-…)') });
const alertListQuery = listQuerySchema.extend({ site: siteIdSchema.optional() });

/** An incident's pause and rollback change the deployment: the route asks for that permission, and this one too. */
function requireIncidents(request: FastifyRequest): void {
  if (!hasPermission(principalOf(request).role, 'incidents:manage')) throw new PlatformError('AUTH_FORBIDDEN', 'Your role may not act on incidents');
}

/** An incident as the contract shows it: each timeline entry with every field (null where it has none). */
function incidentBody(incident: Awaited<ReturnType<MonitoringParts['incidents']['list']>>[number]) {
  return {
    ...incident,
    timeline: incident.timeline.map((e) =>
      e.kind === 'alert'
        ? { kind: e.kind, at: e.at, by: null, byName: null, text: null, assigneeName: null, alertId: e.alertId, detector: e.detector }
        : { kind: e.kind, at: e.at, by: e.by, byName: e.byName, text: e.text, assigneeName: e.assigneeName, alertId: null, detector: null },
    ),
  };
}

/**
 * Production monitoring (docs/monitoring.md, "In the server") and incidents (§4). A route parses,
 * authorises and calls one workflow method; an incident action is one call of `Incidents.act`.
 */
export const monitoringRoutes: FastifyPluginAsync<MonitoringRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const parts = options.monitoring;
  api.get('/api/monitoring', { config: { access: 'monitoring:read' }, schema: { response: { 200: monitoringOverviewSchema } } }, async () => {
    const { monitoring } = await parts();
    const [deployments, summary] = await Promise.all([monitoring.overview(), options.systemSummary()]);
    const s = monitoring.settings;
    return {
      time: summary.time,
      design: { falseAlarmDays: s.falseAlarmDays, casesPerDay: s.casesPerDay, baselineCases: s.baselineCases },
      deployments,
      operations: {
        last24h: { images: summary.last24h.images, gateRejected: summary.last24h.gateRejected, resultLatencyMs: summary.last24h.resultLatencyMs },
        queueDepth: (summary.queue.byState.ready ?? 0) + (summary.queue.byState.leased ?? 0),
        deadLetters: summary.queue.byState.dead ?? 0,
      },
    };
  });
  api.get(
    '/api/monitoring/alerts',
    {
      config: { access: 'monitoring:read' },
      schema: { querystring: alertListQuery, response: { 200: monitorAlertListSchema } },
    },
    async (request) => ({
      alerts: await (
        await parts()
      ).monitoring.alerts({ limit: request.query.limit, ...(request.query.site === undefined ? {} : { site: request.query.site }) }),
    }),
  );
  api.get(
    '/api/monitoring/:site',
    {
      config: { access: 'monitoring:read' },
      schema: { params: siteParams, querystring: monitoringDetailQuerySchema, response: { 200: monitoringDetailSchema } },
    },
    async (request) => (await parts()).monitoring.detail(request.params.site, request.query.bucket),
  );
  api.get(
    '/api/monitoring/:site/cases',
    { config: { access: 'monitoring:read' }, schema: { params: siteParams, querystring: monitorCasesQuerySchema, response: { 200: monitorCasesPageSchema } } },
    async (request) => {
      const q = request.query;
      return (await parts()).monitoring.cases(request.params.site, {
        limit: q.limit,
        ...(q.signal === undefined ? {} : { signal: q.signal }),
        ...(q.from === undefined ? {} : { fromMs: Date.parse(q.from) }),
        ...(q.to === undefined ? {} : { toMs: Date.parse(q.to) }),
        ...(q.after === undefined ? {} : { afterSeq: q.after }),
        ...(q.through === undefined ? {} : { throughSeq: q.through }),
      });
    },
  );
  api.get(
    '/api/incidents',
    {
      config: { access: 'monitoring:read' },
      schema: { querystring: incidentListQuerySchema, response: { 200: incidentListSchema } },
    },
    async (request) => {
      const q = request.query;
      const list = await (
        await parts()
      ).incidents.list({
        limit: q.limit,
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.site === undefined ? {} : { site: q.site }),
      });
      return { incidents: list.map(incidentBody) };
    },
  );
  api.get(
    '/api/incidents/:incidentId',
    { config: { access: 'monitoring:read' }, schema: { params: incidentParams, response: { 200: incidentDetailSchema } } },
    async (request) => {
      const { incident, alerts } = await (await parts()).incidents.show(request.params.incidentId);
      return { incident: incidentBody(incident), alerts };
    },
  );
  const act = async (request: FastifyRequest & { readonly params: { readonly incidentId: string } }, action: IncidentAction) =>
    incidentBody(await (await parts()).incidents.act(request.params.incidentId, action, userActorOf(request)));
  // Free text ≤ 2,000 characters, even \u-escaped (6 bytes each): 16 KiB; a postmortem ≤ 20,000: 128 KiB.
  const body = jsonBody(16 * 1024);
  const postmortemBody = jsonBody(128 * 1024);
  const response = { 200: incidentSchema };
  api.post(
    '/api/incidents/:incidentId/acknowledge',
    { config: { access: 'incidents:manage' }, schema: { params: incidentParams, response } },
    async (request) => act(request, { kind: 'acknowledge' }),
  );
  api.post(
    '/api/incidents/:incidentId/assign',
    { config: { access: 'incidents:manage', body }, schema: { params: incidentParams, body: incidentActionBodySchemas.assign, response } },
    async (request) => act(request, { kind: 'assign', owner: request.body.owner }),
  );
  api.post(
    '/api/incidents/:incidentId/note',
    { config: { access: 'incidents:manage', body }, schema: { params: incidentParams, body: incidentActionBodySchemas.note, response } },
    async (request) => act(request, { kind: 'note', text: request.body.text }),
  );
  api.post(
    '/api/incidents/:incidentId/pause',
    { config: { access: 'deployments:pause', body }, schema: { params: incidentParams, body: incidentActionBodySchemas.pause, response } },
    async (request) => {
      requireIncidents(request);
      return act(request, { kind: 'pause', reason: request.body.reason });
    },
  );
  api.post(
    '/api/incidents/:incidentId/rollback',
    { config: { access: 'deployments:rollback', body }, schema: { params: incidentParams, body: incidentActionBodySchemas.rollback, response } },
    async (request) => {
      requireIncidents(request);
      return act(request, { kind: 'rollback', reason: request.body.reason });
    },
  );
  api.post(
    '/api/incidents/:incidentId/resolve',
    { config: { access: 'incidents:manage', body: postmortemBody }, schema: { params: incidentParams, body: incidentActionBodySchemas.resolve, response } },
    async (request) => act(request, { kind: 'resolve', postmortem: request.body.postmortem }),
  );
  return Promise.resolve();
};
