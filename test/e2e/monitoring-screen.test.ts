/**
 * Monitoring and incidents end to end, in Debian's Chromium: a device sends PneumoniaMNIST val images,
 * then the same images with their contrast lowered (× 0.7) from another device, through the real upload;
 * the server's monitors alarm and open an incident by themselves. An ml-engineer sees the alarm on the
 * deployment's contrast chart, drills down to the cases behind it and opens one, opens the incident,
 * acknowledges it, adds a note, pauses the site from it (the Deployments screen then shows the pause)
 * and resolves it with a postmortem. Every page is checked with axe.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../../src/adapters/image-sharp/encode-png.js';
import { loadConfig } from '../../src/config/load-config.js';
import { reduceContrast8 } from '../../src/domain/monitoring/acquisition-shift.js';
import type { IncidentBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { hasPneumoniaMnist, PNEUMONIA_NPZ, REPO_ROOT } from '../helpers/sample-data.js';
import { buildDashboard, hasChromium, launchChromium, seriousAccessibilityViolations, createDashboardUser } from './dashboard-harness.js';

const PASSWORD = 'a long passphrase for monitoring';
/** Monitors designed on the first 50 images (the smallest baseline allowed), then 40 in control, then 60 shifted. */
const BASELINE = 50;
const IN_CONTROL = BASELINE + 40;
const SHIFTED = 60;
const SHIFTED_DEVICE = 'portable-b e2e';

let dir: string;
let server: ApiServer;
let base: string;
let browser: Browser;
let closeBrowser: (() => Promise<void>) | undefined;
let engineerToken: string;
let incident: IncidentBody;

const createUser = (name: string, role: string): Promise<string> => createDashboardUser(server, name, role, PASSWORD);

async function upload(token: string, device: string, png: Uint8Array): Promise<void> {
  const declaration = JSON.stringify({ device, modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 } });
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/images',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/json"; boundary=u' },
    payload: Buffer.concat([
      Buffer.from(`--u\r\nContent-Type: application/json\r\n\r\n${declaration}\r\n--u\r\nContent-Type: image/png\r\n\r\n`),
      png,
      Buffer.from('\r\n--u--\r\n'),
    ]),
  });
  expect(response.statusCode, response.body).toBe(201);
}

async function getJson<T>(url: string): Promise<T> {
  const response = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${engineerToken}` } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<T>();
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  expect(await seriousAccessibilityViolations(page), `axe on ${what}`).toEqual([]);
}

describe.skipIf(!hasChromium || !hasPneumoniaMnist)(
  `Monitoring and incidents end to end${hasChromium && hasPneumoniaMnist ? '' : ' (skipped: needs /usr/bin/chromium and ../shared/data PneumoniaMNIST)'}`,
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-monitoring-'));
      await buildDashboard(join(dir, 'dashboard'));
      const config = loadConfig(
        {
          VIGIL_DATA_DIR: join(dir, 'data'),
          VIGIL_DICOM_PORT: '0',
          VIGIL_INTRA_OP_THREADS: '1',
          VIGIL_MIN_FREE_DISK_BYTES: '1',
          VIGIL_STUDY_QUIET_MS: '200',
          VIGIL_MONITOR_BASELINE_CASES: String(BASELINE),
          VIGIL_MONITOR_GUARANTEE_BOOTSTRAPS: '0',
        },
        REPO_ROOT,
      );
      server = await createApiServer(config, createLogger('warn', { write: () => {} }), { background: true, dashboardDir: join(dir, 'dashboard') });
      base = await server.app.listen({ host: '127.0.0.1', port: 0 });
      engineerToken = await createUser('erin-mon', 'ml-engineer');
      const device = await createUser('device-mon', 'integration');

      const val = readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'val');
      for (let i = 0; i < IN_CONTROL; i++) await upload(device, 'pneumoniamnist', await encodeGreyPng(val.images[i]!, val.width, val.height));
      for (let i = 0; i < SHIFTED; i++) {
        await upload(device, SHIFTED_DEVICE, await encodeGreyPng(reduceContrast8(val.images[IN_CONTROL + i]!, 0.7), val.width, val.height));
      }
      // The monitors open the incident by themselves once the shifted images are judged.
      const deadline = Date.now() + 150_000;
      for (;;) {
        const { incidents } = await getJson<{ incidents: IncidentBody[] }>('/api/incidents');
        const status = await getJson<{ status: { cases: number } }>('/api/monitoring/default');
        if (incidents[0] !== undefined && status.status.cases >= IN_CONTROL + SHIFTED) {
          incident = incidents[0];
          break;
        }
        if (Date.now() > deadline) throw new Error(`no incident after the shift (${status.status.cases} cases monitored)`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      ({ browser, close: closeBrowser } = await launchChromium());
    }, 240_000);

    afterAll(async () => {
      await closeBrowser?.();
      await server?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'an ml-engineer sees the alarm on the chart, drills down to its cases, and works the incident through to a postmortem',
      { timeout: 180_000 },
      async () => {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await page.goto(base);
        await page.getByLabel('User name', { exact: true }).fill('erin-mon');
        await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await page.getByRole('button', { name: 'Log in' }).click();

        // Monitoring, from the menu: the default site is monitored and has an open incident.
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Monitoring' }).click();
        await page.getByRole('heading', { name: 'Monitoring', exact: true }).waitFor();
        const row = page.getByRole('row', { name: /default/ });
        await row.getByText('Monitoring', { exact: true }).waitFor();
        await row.getByRole('link', { name: /^Open \((medium|high)\)$/ }).waitFor();
        await expectAccessible(page, 'the monitoring overview');

        // The site's page: the contrast chart says, in its description, that it alarmed; the alert names the shifted device.
        await row.getByRole('link', { name: 'default', exact: true }).click();
        await page.getByRole('heading', { name: 'Monitoring: site default' }).waitFor();
        const contrast = page.getByRole('figure', { name: /^contrast \(standard deviation\)/ });
        await contrast.getByText('Alarm', { exact: true }).waitFor();
        expect(await contrast.getByRole('img').getAttribute('aria-label')).toMatch(
          /mean normal score per 50 cases, in reference SDs: .*; alarm in \d+ points?\.$/,
        );
        const alerts = page.getByRole('region', { name: 'Alerts' });
        const alert = alerts.getByRole('article', { name: /^Alert: contrast \(standard deviation\) down$/ }).first();
        await alert.waitFor();
        expect(await alert.textContent()).toContain(SHIFTED_DEVICE);
        expect(await alert.textContent()).toMatch(/CUSUM \d+\.\d+ ≥ h \d+\.\d+/);
        await expectAccessible(page, 'the deployment’s monitoring page');

        // Drill down from the table beside the chart (the keyboard's way to a point): the alarm's cases, linked to the case screen.
        await contrast.locator('summary').click();
        const alarmRow = contrast.getByRole('row').filter({ hasText: 'alarm' }).first();
        await alarmRow.getByRole('button', { name: /^Cases from / }).click();
        const drill = page.getByRole('region', { name: /^Cases behind contrast \(standard deviation\)/ });
        await drill.waitFor();
        await drill.getByRole('row').nth(1).waitFor();
        expect(await drill.textContent()).toContain(SHIFTED_DEVICE);
        await expectAccessible(page, 'the cases behind a point');
        const caseLink = drill.getByRole('link').first();
        expect(await caseLink.getAttribute('href')).toMatch(/^\/cases\//);
        await caseLink.click();
        await page.getByRole('heading', { name: 'Case', exact: true }).waitFor();
        await page.goBack();

        // The incident, from the site's page.
        await page.getByRole('link', { name: `Open incident ${incident.incidentId}` }).click();
        await page.getByRole('heading', { name: /^Incident: / }).waitFor();
        await page.getByRole('region', { name: 'Linked alerts' }).getByRole('article').first().waitFor();
        await expectAccessible(page, 'the incident page');
        const timeline = page.getByRole('region', { name: 'Timeline' });

        await page.getByRole('button', { name: 'Acknowledge' }).click();
        await timeline.getByText('Acknowledged', { exact: true }).waitFor();

        await page.getByRole('button', { name: 'Add note' }).click();
        await page.getByLabel('Note').fill('Contrast fell on the portable unit; asked radiography to check its processing.');
        await page.getByRole('button', { name: 'Add note', exact: true }).last().click();
        await timeline.getByText(/asked radiography to check its processing/).waitFor();

        await page.getByRole('button', { name: 'Pause site' }).click();
        await page.getByLabel('Why pause the site?').fill('Low-contrast images from one unit');
        await page.getByRole('button', { name: 'Pause site' }).last().click();
        await page.getByText('Site default paused: every study goes to human review.').waitFor();
        await timeline.getByText('Site paused', { exact: true }).waitFor();
        await expectAccessible(page, 'the incident page after its actions');

        // The Deployments screen shows the pause, with the incident in its reason.
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments & releases' }).click();
        const site = page.getByRole('article', { name: 'Site default' });
        await site.getByText('Paused', { exact: true }).waitFor();
        expect(await site.textContent()).toContain(`incident ${incident.incidentId}: Low-contrast images from one unit`);
        await page.goBack();

        // Resolve asks for a postmortem first.
        await page.getByRole('button', { name: 'Resolve' }).click();
        expect(await page.getByRole('button', { name: 'Resolve incident' }).isDisabled()).toBe(true);
        await page.getByLabel('Postmortem').fill('The portable unit’s processing preset was changed; restored and the site resumed after a check.');
        await page.getByRole('button', { name: 'Resolve incident' }).click();
        await page.getByText('Incident resolved.').waitFor();
        await page.getByRole('heading', { name: 'Postmortem' }).waitFor();
        expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);

        // The list shows it resolved.
        await page.getByRole('link', { name: 'Incidents', exact: true }).first().click();
        const listed = page.getByRole('row', { name: new RegExp(incident.incidentId) });
        await listed.getByText('Resolved', { exact: true }).waitFor();
        await expectAccessible(page, 'the incidents list');

        const after = await getJson<{ incident: IncidentBody }>(`/api/incidents/${incident.incidentId}`);
        expect(after.incident.state).toBe('resolved');
        expect(after.incident.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['opened', 'alert', 'acknowledge', 'note', 'pause', 'resolve']));
        expect(pageErrors).toEqual([]);
        await context.close();
      },
    );
  },
);
