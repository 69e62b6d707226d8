/**
 * The Deployments & releases screen end to end, in Debian's Chromium: an ml-engineer sees what judges
 * the default site and opens the version; a clinician pauses the site with a reason and resumes it; QA
 * asks the ledger and reads who last changed the site, with the audit entry it cites; QA and a clinician
 * sign a request on its page (re-typing a password), and the engineer rolls the promoted version back.
 * Checked with axe.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { ReleaseViewBody, SiteDeploymentBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ, REPO_ROOT } from '../helpers/sample-data.js';
import { buildDashboard, hasChromium, launchChromium, seriousAccessibilityViolations, createDashboardUser } from './dashboard-harness.js';

const PASSWORD = 'a long passphrase for releases';
const demoId = bundleVersionId(DEMO_MODEL_DIR);

let dir: string;
let server: ApiServer;
let base: string;
let browser: Browser;
let closeBrowser: (() => Promise<void>) | undefined;
let clinicianToken: string;
let engineerToken: string;
let candidateId: string;
let requestId: string;

const createUser = (name: string, role: string): Promise<string> => createDashboardUser(server, name, role, PASSWORD);

/** Logs in and opens the screen from the menu, as a user would. */
async function openReleases(page: Page, userName: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('User name', { exact: true }).fill(userName);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments & releases' }).click();
  await page.getByRole('heading', { name: 'Deployments & releases' }).waitFor();
  await page.getByRole('heading', { name: 'Site default' }).waitFor();
}

async function defaultSite(): Promise<SiteDeploymentBody> {
  const response = await server.app.inject({ method: 'GET', url: '/api/deployments', headers: { authorization: `Bearer ${clinicianToken}` } });
  const site = response.json<{ deployments: SiteDeploymentBody[] }>().deployments.find((d) => d.site === 'default');
  if (site === undefined) throw new Error('no default site');
  return site;
}

describe.skipIf(!hasChromium)('Deployments & releases screen end to end (needs /usr/bin/chromium)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-releases-'));
    await buildDashboard(join(dir, 'dashboard'));
    // A candidate: the demo bundle under another version (manifest version 1.0.1), registered before the server starts.
    const candidate = join(dir, 'candidate');
    cpSync(DEMO_MODEL_DIR, candidate, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(candidate, 'vigil-model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(candidate, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.1' }, null, 2));
    // Registered as the demo's child: a recalibration candidate must be (RELEASE_LINEAGE_INVALID otherwise).
    expect((await runVigil(['model', 'register', DEMO_MODEL_DIR], join(dir, 'data'))).code).toBe(0);
    const registered = await runVigil(['model', 'register', candidate, '--parent', demoId, '--json'], join(dir, 'data'));
    expect(registered.code, registered.stderr).toBe(0);
    candidateId = (JSON.parse(registered.stdout) as { version: { versionId: string } }).version.versionId;
    const config = loadConfig(
      { VIGIL_DATA_DIR: join(dir, 'data'), VIGIL_DICOM_PORT: '0', VIGIL_INTRA_OP_THREADS: '1', VIGIL_MIN_FREE_DISK_BYTES: '1' },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('warn', { write: () => {} }), { background: true, dashboardDir: join(dir, 'dashboard') });
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    engineerToken = await createUser('erin-e2e', 'ml-engineer');
    clinicianToken = await createUser('clara-e2e', 'clinician-reviewer');
    await createUser('quinn-e2e', 'qa-regulatory');
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/releases',
      headers: { authorization: `Bearer ${engineerToken}` },
      payload: { changeType: 'recalibration', site: 'default', candidate: candidateId },
    });
    expect(created.statusCode, created.body).toBe(201);
    requestId = created.json<ReleaseViewBody>().request.requestId;
    ({ browser, close: closeBrowser } = await launchChromium());
  }, 120_000);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the default site’s production version; a clinician pauses and resumes it; QA reads the change in the ledger', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const pageErrors: string[] = [];

    // An ml-engineer: the production version by its short id, linked to the registry record.
    const engineer = await context.newPage();
    engineer.on('pageerror', (error) => pageErrors.push(error.message));
    await openReleases(engineer, 'erin-e2e');
    const site = engineer.getByRole('article', { name: 'Site default' });
    const production = site.getByRole('link', { name: demoId.slice(0, 12), exact: true }).first();
    expect(await production.getAttribute('href')).toBe(`/model/versions/${demoId}`);
    expect(await site.getByText('Judging', { exact: true }).isVisible()).toBe(true);
    // Nothing to roll back to on a fresh server; the ledger (audit:read) is not an ml-engineer's.
    expect(await site.getByRole('button', { name: 'Roll back site default' }).isDisabled()).toBe(true);
    expect(await engineer.getByRole('heading', { name: 'Ledger' }).count()).toBe(0);
    expect(await seriousAccessibilityViolations(engineer), 'axe on the releases screen').toEqual([]);
    await production.click();
    await engineer.getByText(demoId, { exact: true }).waitFor();
    await engineer.close();
    await context.clearCookies();

    // A clinician pauses the site with a reason (asked for before anything is sent), then resumes it.
    const clinician = await context.newPage();
    clinician.on('pageerror', (error) => pageErrors.push(error.message));
    await openReleases(clinician, 'clara-e2e');
    const card = clinician.getByRole('article', { name: 'Site default' });
    // A clinician may pause but not roll back (src/domain/access/roles.ts).
    expect(await card.getByRole('button', { name: 'Roll back site default' }).count()).toBe(0);
    await card.getByRole('button', { name: 'Pause site default' }).click();
    expect((await defaultSite()).paused).toBeNull();
    await card.getByLabel('Why pause site default?').fill('Unexpected referral rate after the scanner upgrade');
    await card.getByRole('button', { name: 'Pause site', exact: true }).click();
    await card.getByText('Paused: every study at this site goes to human review').waitFor();
    expect(await card.getByText('“Unexpected referral rate after the scanner upgrade” — clara-e2e', { exact: false }).isVisible()).toBe(true);
    expect((await defaultSite()).paused).toMatchObject({ reason: 'Unexpected referral rate after the scanner upgrade', by: 'clara-e2e' });
    expect(await seriousAccessibilityViolations(clinician), 'axe on the releases screen, paused').toEqual([]);
    await card.getByRole('button', { name: 'Resume site default' }).click();
    await card.getByText('Judging', { exact: true }).waitFor();
    expect((await defaultSite()).paused).toBeNull();
    expect((await defaultSite()).production).toBe(demoId);
    await clinician.close();
    await context.clearCookies();

    // QA asks the ledger for now: the resume by the clinician, citing its audit entry.
    const qa = await context.newPage();
    qa.on('pageerror', (error) => pageErrors.push(error.message));
    await openReleases(qa, 'quinn-e2e');
    expect(await qa.getByRole('button', { name: 'Pause site default' }).count()).toBe(0);
    await qa.getByRole('button', { name: 'Ask the ledger' }).click();
    const sentence = qa.locator('.ledger-sentence');
    await sentence.waitFor();
    const text = (await sentence.textContent()) ?? '';
    expect(text).toContain('studies at site default were judged by');
    expect(text).toContain(demoId.slice(0, 12));
    expect(text).toMatch(/set by clara-e2e \(resume, generation \d+\) \(audit \S+/);
    expect(await seriousAccessibilityViolations(qa), 'axe on the releases screen with the ledger').toEqual([]);

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it(
    'lists a release request (fitting its panel at 1400 px) and shows its detail; a draft offers no Sign form, and says why',
    { timeout: 120_000 },
    async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await openReleases(page, 'quinn-e2e');
      // At 1400 px the requests table fits its panel: no horizontal scrolling, in the panel or the page.
      await page.setViewportSize({ width: 1400, height: 900 });
      type Box = { scrollWidth: number; clientWidth: number; ownerDocument: { documentElement: { scrollWidth: number; clientWidth: number } } };
      const [inner, innerVisible, pageWidth, pageVisible] = await page
        .locator('.table-scroll', { has: page.getByRole('table', { name: 'Release requests, newest first' }) })
        .evaluate((el) => {
          const box = el as unknown as Box;
          return [box.scrollWidth, box.clientWidth, box.ownerDocument.documentElement.scrollWidth, box.ownerDocument.documentElement.clientWidth];
        });
      expect(inner).toBeLessThanOrEqual(innerVisible ?? 0);
      expect(pageWidth).toBeLessThanOrEqual(pageVisible ?? 0);
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: requestId }) });
      const cells = await row.getByRole('cell').allTextContents();
      expect(cells.slice(1, 7)).toEqual(['Draft', 'Recalibration', 'default', candidateId.slice(0, 12), demoId.slice(0, 12), 'erin-e2e (ml-engineer)']);
      await row.getByRole('link', { name: requestId }).click();

      await page.getByRole('heading', { name: `Release request ${requestId}` }).waitFor();
      const view = (
        await server.app.inject({ method: 'GET', url: `/api/releases/${requestId}`, headers: { authorization: `Bearer ${clinicianToken}` } })
      ).json<ReleaseViewBody>();
      await page.getByText(view.request.protocolSha256, { exact: true }).waitFor();
      await page.getByText('No gate has run yet.').waitFor();
      const needed = await page
        .getByRole('heading', { name: 'Still needed' })
        .locator('xpath=following-sibling::ul[1]')
        .getByRole('listitem')
        .allTextContents();
      expect(needed).toEqual(view.missingApprovals.map((m) => `${m.role}: ${m.meaning}`));
      expect(needed.length).toBeGreaterThan(0);
      expect(await seriousAccessibilityViolations(page), 'axe on a release request').toEqual([]);

      // A draft cannot be signed: no Sign form is offered, and a line says when signing opens.
      await page.getByText('Not open for signing: it is draft; a request is signed once every gate has passed.').waitFor();
      expect(await page.getByLabel('Your password, again').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await context.close();
    },
  );

  it.skipIf(!hasPneumoniaMnist)(
    'QA and a clinician sign in the browser (each re-typing a password); the engineer promotes; the engineer rolls the site back on the screen (needs the sample data)',
    { timeout: 180_000 },
    async () => {
      // The gates run by API (they read the pinned validation split); the rest is done on the screens.
      const gates = await server.app.inject({
        method: 'POST',
        url: `/api/releases/${requestId}/gates`,
        headers: { authorization: `Bearer ${engineerToken}` },
        payload: {
          dataset: `medmnist:${PNEUMONIA_NPZ}:val`,
          declared: { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } },
        },
      });
      expect(gates.statusCode, gates.body).toBe(200);
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const pageErrors: string[] = [];

      const signAs = async (userName: string, role: string): Promise<void> => {
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await openReleases(page, userName);
        await page.getByRole('link', { name: requestId }).click();
        await page.getByRole('heading', { name: `Release request ${requestId}` }).waitFor();
        const password = page.getByLabel('Your password, again');
        // A refused signature shows its code, and the password is not kept.
        await password.fill('not the password');
        await page.getByRole('button', { name: /^Sign as / }).click();
        const refusal = page.getByRole('alert');
        await refusal.getByText('Not signed').waitFor();
        expect(await refusal.getByText('RELEASE_SIGNATURE_INVALID', { exact: true }).isVisible()).toBe(true);
        expect(await password.inputValue()).toBe('');
        await password.fill(PASSWORD);
        await page.getByRole('button', { name: /^Sign as / }).click();
        await page.getByRole('status').getByText('Signed.').waitFor();
        // Signed: the form is gone (nothing more to sign), the signature is named instead.
        expect(await password.count()).toBe(0);
        // The signature is shown with the signer's name and role, wherever the request is shown.
        const signatures = page.getByRole('heading', { name: 'Signatures', exact: true }).locator('xpath=..');
        await signatures.getByText(userName, { exact: false }).first().waitFor();
        expect(await signatures.textContent()).toContain(role);
        expect(await seriousAccessibilityViolations(page), `axe on a request signed by ${userName}`).toEqual([]);
        await page.close();
        await context.clearCookies();
      };
      await signAs('quinn-e2e', 'qa-regulatory');
      await signAs('clara-e2e', 'clinician-reviewer');
      const view = (
        await server.app.inject({ method: 'GET', url: `/api/releases/${requestId}`, headers: { authorization: `Bearer ${clinicianToken}` } })
      ).json<ReleaseViewBody>();
      expect(view.request.state).toBe('approved');
      expect(view.request.signatures.map((s) => s.signer.userName).sort()).toEqual(['clara-e2e', 'quinn-e2e']);

      const promoted = await server.app.inject({
        method: 'POST',
        url: `/api/releases/${requestId}/promote`,
        headers: { authorization: `Bearer ${engineerToken}` },
      });
      expect(promoted.statusCode, promoted.body).toBe(200);
      expect((await defaultSite()).production).toBe(candidateId);

      // The engineer sees the candidate in production and rolls back, confirming first.
      const engineer = await context.newPage();
      engineer.on('pageerror', (error) => pageErrors.push(error.message));
      await openReleases(engineer, 'erin-e2e');
      const card = engineer.getByRole('article', { name: 'Site default' });
      await card
        .getByRole('link', { name: candidateId.slice(0, 12), exact: true })
        .first()
        .waitFor();
      await card.getByRole('button', { name: 'Roll back site default' }).click();
      const confirm = card.getByRole('alertdialog');
      expect(await confirm.textContent()).toContain(demoId.slice(0, 12));
      expect((await defaultSite()).production).toBe(candidateId);
      await confirm.getByRole('button', { name: 'Confirm roll back' }).click();
      await card
        .getByRole('link', { name: demoId.slice(0, 12), exact: true })
        .first()
        .waitFor();
      expect(await seriousAccessibilityViolations(engineer), 'axe on the releases screen after a rollback').toEqual([]);
      const site = await defaultSite();
      expect([site.production, site.history, site.updatedBy]).toEqual([demoId, [], 'erin-e2e']);
      expect(pageErrors).toEqual([]);
      await context.close();
    },
  );
});
