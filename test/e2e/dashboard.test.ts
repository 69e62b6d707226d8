/**
 * The dashboard end to end, in Debian's Chromium: a reviewer logs in, a study arrives over C-STORE,
 * appears in the worklist, is read, and its DICOM SR reaches the results destination (DCMTK's
 * storescp). Every main screen is checked with axe; a serious or critical violation fails the test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { ReviewBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { childChestFilm } from '../helpers/child-chest-film.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';
import { buildDashboard, hasChromium, launchChromium, seriousAccessibilityViolations, createDashboardUser } from './dashboard-harness.js';
import { startStorescp } from '../helpers/dicom-peers.js';

const run = promisify(execFile);
const hasDcmtk = ['storescu', 'storescp', 'dcmdump', 'dcmodify'].every((tool) => ['/usr/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, tool))));
const PASSWORD = 'a long reviewer passphrase';
const QA_PASSWORD = 'another long passphrase';

let dir: string;
let server: ApiServer;
let base: string;
let browser: Browser;
let closeBrowser: (() => Promise<void>) | undefined;
let storescp: { port: number; stop: () => Promise<void> } | undefined;
let srDir: string;
let reviewerToken: string;
/**
 * The PA chest film of the samples made 3 years old (helpers/child-chest-film.ts): the paediatric demo
 * model decides it, where the film as it is (a 64-year-old) is refused for its age and sends no SR.
 */
let chest: string;

const createUser = (name: string, role: string, password: string): Promise<string> => createDashboardUser(server, name, role, password);

async function logIn(page: Page, userName: string, password: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('User name', { exact: true }).fill(userName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  expect(await seriousAccessibilityViolations(page), `axe on the ${screen} screen`).toEqual([]);
}

describe.skipIf(!hasChromium || !hasDcmtk || !hasDicomSamples)(
  'dashboard end to end (needs /usr/bin/chromium, DCMTK storescu/storescp/dcmdump/dcmodify and ../shared/data)',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
      // The current sources, built aside: the test never depends on a stale dist/.
      await buildDashboard(join(dir, 'dashboard'));
      chest = await childChestFilm(dir);
      srDir = join(dir, 'sr-received');
      mkdirSync(srDir);
      storescp = await startStorescp('RESULTS', srDir);
      const config = loadConfig(
        {
          VIGIL_DATA_DIR: join(dir, 'data'),
          VIGIL_DICOM_PORT: '0',
          VIGIL_STUDY_QUIET_MS: '500',
          VIGIL_INTRA_OP_THREADS: '1',
          VIGIL_MIN_FREE_DISK_BYTES: '1',
          // Every confident decision is sampled for review, so the decided chest film reaches the worklist.
          VIGIL_REVIEW_SAMPLE_RATE: '1',
          VIGIL_RESULT_DICOM_DESTINATION: `RESULTS@127.0.0.1:${storescp.port}`,
          VIGIL_LOGIN_MAX_FAILURES: '3',
        },
        REPO_ROOT,
      );
      server = await createApiServer(config, createLogger('warn', { write: () => {} }), { background: true, dashboardDir: join(dir, 'dashboard') });
      base = await server.app.listen({ host: '127.0.0.1', port: 0 });
      reviewerToken = await createUser('reader-e2e', 'clinician-reviewer', PASSWORD);
      await createUser('qa-e2e', 'qa-regulatory', QA_PASSWORD);
      ({ browser, close: closeBrowser } = await launchChromium());
    });

    afterAll(async () => {
      await closeBrowser?.();
      await server?.close();
      await storescp?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'a reviewer logs in, a study arrives over C-STORE and appears in the worklist, the reviewer reads it, and the SR is sent',
      { timeout: 240_000 },
      async () => {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));

        // Log in.
        await page.goto(base);
        await expect.poll(() => page.getByRole('button', { name: 'Log in' }).isVisible()).toBe(true);
        await expectAccessible(page, 'log-in');
        await logIn(page, 'reader-e2e', PASSWORD);
        await page.getByRole('heading', { name: 'Worklist' }).waitFor();
        expect(page.url()).toBe(`${base}/worklist`);
        await page.getByText('Nothing to review').waitFor();
        // The reviewer's menu: no audit, no system health.
        const menu = page.getByRole('navigation', { name: 'Main' });
        expect(await menu.getByRole('link').allTextContents()).toEqual(['Worklist', 'Studies', 'Model', 'Deployments & releases', 'Monitoring', 'Incidents']);

        // A study arrives over C-STORE and appears without a reload (the list refreshes itself).
        await run('storescu', ['-xw', '-aet', 'MODALITY', '-aec', 'VIGIL', '127.0.0.1', String(server.dicomPort), chest]);
        const firstItem = page.getByRole('link', { name: /^Review item 1:/ });
        await firstItem.waitFor({ timeout: 90_000 });
        expect(await firstItem.getAttribute('aria-label')).toBe('Review item 1: Random sample (priority: Random sample)');
        // The reading columns, as kept after de-identification; the probability at the calibration's precision.
        const row = page.getByRole('row').filter({ has: firstItem });
        const cells = await row.getByRole('cell').allTextContents();
        expect(cells.slice(3, 8)).toEqual(['CR', 'CHEST', '3 y', 'default', 'Philips Medical Systems Cassette Holder Type 9840 500 70201']);
        expect(cells[8]).toMatch(/^(≈|>|<) 0\.\d+$/);
        await expectAccessible(page, 'worklist');

        // Open it from the keyboard.
        await page.keyboard.press('j');
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { name: 'Case review' }).waitFor();
        const image = page.getByRole('img', { name: /^Image 1 of study/ });
        await expect
          .poll(
            () =>
              image.evaluate((img) => {
                const element = img as unknown as { complete: boolean; naturalWidth: number };
                return element.complete && element.naturalWidth > 0;
              }),
            { timeout: 30_000 },
          )
          .toBe(true);
        await expect.poll(() => page.getByText('Positive', { exact: true }).isVisible()).toBe(true);
        // The film declares CR, CHEST and PA and its age is derived (3 years): every check was made.
        await page.getByText('Every check this model requires was made and passed (12 of 12).').waitFor();
        await page.getByRole('heading', { name: 'Checked and passed' }).waitFor();
        expect(await page.getByRole('heading', { name: 'Could not be checked' }).count()).toBe(0);
        // What a reader needs, as kept after de-identification: the Basic Profile empties Patient's Sex.
        const patient = page.getByRole('region', { name: 'Patient and acquisition' });
        expect(await patient.locator('dd').allTextContents()).toEqual([
          '3 years',
          'not kept (de-identified)',
          'CR',
          'CHEST',
          'PA',
          'not known',
          'Philips Medical Systems Cassette Holder Type 9840 500 70201',
        ]);
        // The demo model's test ECE is 0.095: tenths, and never "100.0 %".
        const probability = await page.locator('strong.probability').textContent();
        expect(probability).toMatch(/^(≈ 0\.\d|> 0\.95|< 0\.05)$/);
        expect(await page.getByRole('region', { name: 'Model' }).textContent()).not.toMatch(/Probability [\d.]+ %/);
        await expectAccessible(page, 'case review');

        // Zoom and reset from the keyboard.
        await page.getByRole('group', { name: /Plus and minus zoom/ }).focus();
        const zoom = page.getByRole('status', { name: 'Zoom' });
        await page.keyboard.press('+');
        await expect.poll(() => zoom.textContent()).toBe('125 %');
        await page.getByRole('button', { name: 'Reset' }).click();
        await expect.poll(() => zoom.textContent()).toBe('100 %');

        // Record the read; with nothing else waiting, the worklist comes back with a confirmation.
        await page.getByRole('button', { name: 'Record read and open next' }).click();
        await page.getByText('Answer the three questions before recording the read.').waitFor();
        await page.getByRole('group', { name: 'Is pneumonia present?' }).getByLabel('Yes').check();
        await page.getByRole('group', { name: 'Is the image quality adequate for reading?' }).getByLabel('Yes').check();
        await page.getByRole('group', { name: 'Do you agree with the model?' }).getByLabel('Yes').check();
        await page.getByLabel('Comment (optional)').fill('Consolidation in the right lower zone.');
        await page.getByRole('button', { name: 'Record read and open next' }).click();
        await page.getByText('Read recorded. Nothing else is waiting.').waitFor();
        expect(page.url()).toBe(`${base}/worklist`);

        const reviews = await server.app.inject({ method: 'GET', url: '/api/reviews', headers: { authorization: `Bearer ${reviewerToken}` } });
        const [review] = reviews.json<{ reviews: ReviewBody[] }>().reviews;
        expect(review?.read).toEqual({
          findingPresent: true,
          imageQualityAdequate: true,
          agreesWithModel: true,
          comment: 'Consolidation in the right lower zone.',
        });

        // The decided case's Comprehensive SR reached storescp.
        const stdout = await waitForInstance(srDir, 60_000);
        expect(stdout).toContain('[SR]');
        expect(stdout).toMatch(/1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\.\d+/);

        // The other screens a reviewer has, each accessible.
        await page.getByRole('link', { name: 'Studies' }).click();
        await page.getByRole('heading', { name: 'Studies' }).waitFor();
        await page.getByRole('link', { name: /^Image 1: Positive/ }).waitFor();
        await expectAccessible(page, 'studies');
        await page.getByRole('link', { name: 'Model' }).click();
        await page.getByRole('heading', { name: 'Model card', exact: true }).waitFor();
        await page.getByRole('heading', { name: 'Intended use', level: 2 }).waitFor();
        // The card's metrics table is rendered as a table.
        await page.getByRole('table').filter({ hasText: 'Brier, before calibration' }).getByRole('cell', { name: '0.982' }).waitFor();
        // Each bundled report's ROC and reliability plots inline, drawn (SVG from the server), and the
        // page no wider than the 1440 px window.
        const plots = page.locator('.report-plots img');
        await expect.poll(() => plots.count()).toBe(4);
        await page.getByRole('img', { name: 'ROC curve with its 95% bootstrap band of pneumoniamnist-test' }).waitFor();
        await expect.poll(() => plots.evaluateAll((imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
        // (Browser objects typed structurally: the tests' tsconfig has no DOM library.)
        const pageWidth = await page.evaluate(
          () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
        );
        expect(pageWidth).toBeLessThanOrEqual(1440);
        await expectAccessible(page, 'model');

        await page.getByRole('button', { name: 'Log out' }).click();
        await page.getByRole('button', { name: 'Log in' }).waitFor();
        expect(pageErrors).toEqual([]);
        await context.close();
      },
    );

    it(
      'a device image that declares nothing: the worklist says the gate could not check it, and the case lists what was not checked, never "passed"',
      { timeout: 120_000 },
      async () => {
        const device = await createUser('camera-e2e', 'integration', 'a camera gateway passphrase');
        const png = await texturedGreyPng(21);
        const body = Buffer.concat([
          Buffer.from('--u\r\nContent-Type: application/json\r\n\r\n{}\r\n--u\r\nContent-Type: image/png\r\n\r\n'),
          png,
          Buffer.from('\r\n--u--\r\n'),
        ]);
        const upload = await server.app.inject({
          method: 'POST',
          url: '/api/images',
          headers: { authorization: `Bearer ${device}`, 'content-type': 'multipart/related; type="application/json"; boundary=u' },
          payload: body,
        });
        expect(upload.statusCode, upload.body).toBe(201);

        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        await logIn(page, 'reader-e2e', PASSWORD);
        await page.getByRole('heading', { name: 'Worklist' }).waitFor();
        const item = page.getByRole('link', { name: /^Review item \d+: Gate rejected, Gate could not check \(priority: Gate rejected\)$/ });
        await item.waitFor({ timeout: 60_000 });
        await item.click();
        await page.getByRole('heading', { name: 'Case review' }).waitFor();
        await page.getByRole('heading', { name: 'Could not be checked' }).waitFor();
        const gate = page.getByRole('region', { name: /Intended use and quality gate/ });
        await gate.getByText("Patient's age (years): the image does not tell it").waitFor();
        await gate.getByText('View (View Position): the image does not tell it').waitFor();
        expect(await gate.textContent()).toMatch(/4 could not be checked/);
        expect(await gate.textContent()).not.toMatch(/was made and passed|checks passed|No concerns/);
        await expectAccessible(page, 'case review of an image the gate could not check');
        await context.close();
      },
    );

    it('a 30-frame ultrasound cine is one worklist item, found by its modality, whose frames the case screen steps through', { timeout: 180_000 }, async () => {
      // -xy: the cine is JPEG Baseline (8 bit).
      await run('storescu', [
        '-xy',
        '-aet',
        'MODALITY',
        '-aec',
        'VIGIL',
        '127.0.0.1',
        String(server.dicomPort),
        join(DICOM_SAMPLES, 'us_multiframe30_jpeg_baseline.dcm'),
      ]);
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await logIn(page, 'reader-e2e', PASSWORD);
      await page.getByRole('heading', { name: 'Worklist' }).waitFor();
      // Filtered on the server by modality: the cine's study alone, one row for its 30 frames.
      await page.getByLabel('Modality').fill('us');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => page.url()).toBe(`${base}/worklist?modality=US`);
      const item = page.getByRole('link', { name: /^Review item 1: Gate rejected/ });
      await item.waitFor({ timeout: 90_000 });
      expect(await page.getByRole('link', { name: /^Review item \d+:/ }).count()).toBe(1);
      const cells = await page.getByRole('row').filter({ has: item }).getByRole('cell').allTextContents();
      expect(cells[2]).toContain('30 images');
      expect(cells.slice(3, 8)).toEqual(['US', '—', '—', 'default', 'SonoSite, Inc. Turbo']);
      expect(cells[8]).toBe('not judged');
      await expectAccessible(page, 'filtered worklist');
      await item.click();
      await page.getByRole('heading', { name: 'Case review' }).waitFor();
      const frames = page.getByRole('navigation', { name: 'Images this item covers' });
      await frames.getByRole('heading', { name: 'Images in this item (30 of 30)' }).waitFor();
      expect(await frames.getByRole('link').count()).toBe(30);
      await frames.getByRole('link', { name: /^12: rejected$/ }).click();
      await expect.poll(() => page.url()).toContain('image=11');
      await page.getByRole('img', { name: /^Image 12 of study/ }).waitFor();
      await page.getByRole('region', { name: 'Patient and acquisition' }).getByText('30 (this is frame 12)').waitFor();
      await expectAccessible(page, 'case review of a cine');
      await context.close();
    });

    it('quality and regulatory: verifies the audit log, proves an entry, reads system health', { timeout: 120_000 }, async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await logIn(page, 'qa-e2e', QA_PASSWORD);
      await page.getByRole('heading', { name: 'Studies' }).waitFor();

      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit' }).waitFor();
      await page.getByRole('button', { name: 'Verify now' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Pass.' }).textContent()).toMatch(/^Pass\. \d+ entries/);

      await page.getByLabel('Event type').fill('review_recorded');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('1 entry shown.').waitFor();
      await page.getByRole('button', { name: /^Proof of a-\d+$/ }).click();
      await page.getByRole('heading', { name: /^Inclusion proof of a-\d+$/ }).waitFor();
      await page.getByText('Verified.').waitFor();
      await expectAccessible(page, 'audit');

      await page.getByRole('link', { name: 'Health' }).click();
      await page.getByRole('heading', { name: 'System health' }).waitFor();
      await page.getByRole('heading', { name: 'Decisions in the last 24 hours' }).waitFor();
      await expectAccessible(page, 'health');
      await context.close();
    });

    it('the first administrator signs in with the printed token and creates a reviewer account', { timeout: 60_000 }, async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await page.goto(base);
      await page.getByRole('radio', { name: 'API token' }).check();
      // The token field (a password input, so it has no textbox role).
      await page.locator('input[name="token"]').fill(server.bootstrap?.token ?? '');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByLabel('User name').fill('reader-two');
      await page.getByLabel('Role').selectOption('clinician-reviewer');
      await page.getByLabel('Password for the dashboard (optional)').fill('another long passphrase');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByText('Account “reader-two” created').waitFor();
      expect(await page.locator('code.token').textContent()).toMatch(/^vgl_/);
      await page.getByRole('cell', { name: 'reader-two', exact: true }).waitFor();
      await expectAccessible(page, 'users');

      // Its tokens: the first one listed (never its secret), a new one issued (shown once) and revoked.
      await page.getByRole('button', { name: 'Tokens of reader-two' }).click();
      const tokens = page.getByRole('table', { name: 'API tokens of reader-two' });
      await tokens.getByRole('cell', { name: /^created with the user created / }).waitFor();
      await page.getByLabel('New token’s label').fill('laptop');
      await page.getByRole('button', { name: 'Issue token' }).click();
      await page.getByText('New token for “reader-two”').waitFor();
      const laptopToken = (await page.locator('code.token').textContent()) ?? '';
      expect(laptopToken).toMatch(/^vgl_/);
      expect(await tokens.textContent()).not.toContain(laptopToken.slice(4));
      await expectAccessible(page, 'users (tokens)');
      const usersWidth = await page.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      );
      expect(usersWidth).toBeLessThanOrEqual(1440);
      await page.getByRole('button', { name: 'Revoke laptop' }).click();
      await tokens.getByRole('cell', { name: /^revoked / }).waitFor();
      expect((await server.app.inject({ url: '/api/worklist', headers: { authorization: `Bearer ${laptopToken}` } })).statusCode).toBe(401);
      // The only administrator cannot disable itself: a coded, readable refusal.
      await page.getByRole('button', { name: 'Tokens of admin' }).click();
      await page.getByRole('button', { name: 'Disable account' }).click();
      await page.getByText(/last enabled administrator/).waitFor();
      await context.close();

      // The new account signs in with its password and lands on the worklist.
      const second = await browser.newContext();
      const reader = await second.newPage();
      await logIn(reader, 'reader-two', 'another long passphrase');
      await reader.getByRole('heading', { name: 'Worklist' }).waitFor();
      await second.close();
    });

    it('a wrong password is refused, and repeated failures are rate limited with a clear message', { timeout: 60_000 }, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await logIn(page, 'qa-e2e', 'not the passphrase');
      await page.getByText('The user name or the password is not right.').waitFor();
      for (let attempt = 0; attempt < 3; attempt++) await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText(/Too many attempts to log in\. Wait before trying again\. You can try again in \d+ s\./).waitFor();
      expect(await page.getByRole('button', { name: 'Log in' }).isDisabled()).toBe(true);
      await context.close();
    });
  },
);

/** The Modality and SOP Class of the first instance storescp has written completely (dcmdump reads it). */
async function waitForInstance(folder: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [name] = readdirSync(folder);
    if (name !== undefined) {
      const dumped = await run('dcmdump', ['-Un', '+P', '0008,0060', '+P', '0008,0016', join(folder, name)]).catch(() => undefined);
      if (dumped !== undefined && dumped.stdout.includes('(0008,0060)')) return dumped.stdout;
    }
    if (Date.now() > deadline) throw new Error('no SR reached storescp');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
