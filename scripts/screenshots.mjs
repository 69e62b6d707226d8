#!/usr/bin/env node
// Refreshes docs/screenshots/: starts `vigil serve` in-process on a temporary data folder, seeds it
// with the public sample data (as `npm start` does), records a few reads, and photographs the main
// screens at 1440×900 in Debian's Chromium; then sends the monitors' demo stream (as `npm start` does
// after its seed), waits for the incident the monitors open, and photographs the monitoring page, the
// incident, Deployments & releases and the demo's release request. Run with `npm run screenshots`
// (it builds dist/ first).
//
//   VIGIL_SAMPLE_DATA   the sample data (default ../shared/data)
//   CHROMIUM            the browser (default /usr/bin/chromium)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'screenshots-passphrase';

if (!existsSync(join(ROOT, 'dist', 'main.js')) || !existsSync(join(ROOT, 'dist', 'dashboard', 'index.html'))) {
  console.error('dist/ is not built: run `npm run build` (npm run screenshots does).');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`No browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM).`);
  process.exit(1);
}

const { createApiServer } = await import(join(ROOT, 'dist', 'main.js'));
const { loadConfig } = await import(join(ROOT, 'dist', 'config', 'load-config.js'));
const { createLogger } = await import(join(ROOT, 'dist', 'logging', 'create-logger.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'vigil-screenshots-'));
const config = loadConfig(
  {
    ...(process.env.VIGIL_SAMPLE_DATA === undefined ? {} : { VIGIL_SAMPLE_DATA: process.env.VIGIL_SAMPLE_DATA }),
    VIGIL_DATA_DIR: join(dir, 'data'),
    VIGIL_DICOM_PORT: '0',
    VIGIL_STUDY_QUIET_MS: '500',
    // Every confident decision is sampled, so the worklist shows each kind of item.
    VIGIL_REVIEW_SAMPLE_RATE: '1',
  },
  ROOT,
);
const server = await createApiServer(config, createLogger('warn', { write: () => {} }), { background: true });
let browser;
try {
  const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const admin = server.bootstrap.token;
  const inject = async (method, url, token, payload, contentType) => {
    const headers = { authorization: `Bearer ${token}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) };
    const response = await server.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    if (response.statusCode >= 400) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response;
  };
  const user = async (name, role) => (await inject('POST', '/api/users', admin, { name, role, password: PASSWORD })).json().token;
  const reader = await user('dr.lee', 'clinician-reviewer');
  await user('qa.morgan', 'qa-regulatory');
  const engineer = await user('erin.ml', 'ml-engineer');

  const seeded = await server.seedDemo();
  if (seeded.status !== 'seeded') throw new Error(`no demo data to show (${seeded.status}); set VIGIL_SAMPLE_DATA`);
  // The demo model is for children of 1-5 years, so the samples' chest film (an adult's) is refused for
  // age. The case review shows a copy made 3 years old with DCMTK's dcmodify (new UIDs: another study),
  // sent over STOW-RS like any other study.
  const sender = await user('pacs', 'integration');
  const pacsId = (await inject('GET', '/api/users', admin)).json().users.find((u) => u.name === 'pacs').userId;
  await inject('POST', `/api/users/${pacsId}/tokens`, admin, { label: 'PACS router (backup)', expiresInDays: 90 });
  const child = join(dir, 'cr_chest_pa_child.dcm');
  copyFileSync(join(config.sampleDataDir, 'dicom-samples', 'cr_chest_pa_j2k_lossy.dcm'), child);
  execFileSync('dcmodify', ['-nb', '-m', '(0010,0030)=20010415', '-gst', '-gse', '-gin', child]);
  const boundary = 'vigil-screenshots';
  await inject(
    'POST',
    '/dicomweb/studies',
    sender,
    Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(child), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    `multipart/related; type="application/dicom"; boundary=${boundary}`,
  );
  // The whole open worklist, page by page (a page holds at most 100 items).
  const allItems = async () => {
    const all = [];
    let cursor;
    do {
      const page = (await inject('GET', `/api/worklist?limit=100${cursor === undefined ? '' : `&cursor=${cursor}`}`, reader)).json();
      all.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    return all;
  };
  // Wait until every study is judged and the worklist stops growing.
  let previous = -1;
  for (let stable = 0; stable < 3;) {
    await sleep(1000);
    const { studies } = (await inject('GET', '/api/studies?limit=500', reader)).json();
    const judged = await Promise.all(studies.map(async (s) => (await inject('GET', `/api/studies/${s.studyKey}`, reader)).json().cases.length > 0));
    const items = (await allItems()).length;
    stable = judged.every(Boolean) && items === previous ? stable + 1 : 0;
    previous = items;
  }
  const items = await allItems();
  // The case to photograph: the real chest film (a decided DICOM image, rendered with its own window).
  let chest;
  for (const item of items) {
    const found = (await inject('GET', `/api/cases/${encodeURIComponent(item.caseId)}`, reader)).json();
    if (found.results[item.resultIndex]?.status !== 'decided') continue;
    const image = await inject('GET', `/api/cases/${encodeURIComponent(item.caseId)}/images/${item.resultIndex}?size=64`, reader);
    if (String(image.headers['x-vigil-window']).startsWith('dicom')) {
      chest = item;
      break;
    }
  }
  // A few reads of studies the gate rejected, so that the audit log holds reviews as well as decisions.
  for (const item of items.filter((i) => i !== chest && i.priority === 'rejected').slice(0, 3)) {
    await inject('POST', `/api/worklist/${encodeURIComponent(item.itemId)}/review`, reader, {
      findingPresent: null,
      imageQualityAdequate: false,
      agreesWithModel: null,
      comment: 'Not a chest radiograph.',
    });
  }

  mkdirSync(OUT, { recursive: true });
  // playwright gives the browser a fresh temporary profile of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const shot = async (name) => {
    await page.evaluate(() => document.fonts.ready);
    await sleep(300);
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };
  const logIn = async (name) => {
    await page.goto(base);
    await page.getByLabel('User name', { exact: true }).fill(name);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  };

  await page.goto(base);
  await page.getByLabel('User name', { exact: true }).fill('dr.lee');
  await shot('login');

  await logIn('dr.lee');
  await page.getByRole('link', { name: /^Review item 1:/ }).waitFor();
  await page.mouse.move(0, 0);
  await shot('worklist');

  if (chest !== undefined) {
    await page.goto(`${base}/review/${encodeURIComponent(chest.itemId)}`);
    await page.getByRole('img', { name: /^Image 1 of study/ }).waitFor();
    await page
      .getByRole('group', { name: /present\?$/ })
      .getByLabel('Yes')
      .check();
    await page
      .getByRole('group', { name: /quality adequate/ })
      .getByLabel('Yes')
      .check();
    await page
      .getByRole('group', { name: /agree with the model/ })
      .getByLabel('Yes')
      .check();
    await page.getByRole('group', { name: /Plus and minus zoom/ }).focus();
    await page.mouse.move(0, 0);
    // The side column from its top: the priority, the patient and acquisition, the model's probability.
    await page.evaluate(() => document.querySelector('.case-side')?.scrollTo(0, 0));
    await shot('case-review');
  } else {
    console.warn('no decided DICOM image in the worklist: case-review.png not refreshed');
  }

  await page.goto(`${base}/studies`);
  await page
    .getByRole('link', { name: /^Image 1: / })
    .first()
    .waitFor();
  await shot('studies');

  await page.goto(`${base}/model`);
  await page.getByRole('heading', { name: 'Model card', exact: true }).waitFor();
  // The evaluation reports with their ROC and reliability plots, drawn before the picture is taken.
  await page.waitForFunction(() => [...document.querySelectorAll('.report-plots img')].every((i) => i.complete && i.naturalWidth > 0));
  await page.evaluate(() => document.getElementById('reports-heading')?.closest('section')?.scrollIntoView());
  await page.evaluate(() => window.scrollBy(0, -16));
  await shot('model');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await logIn('qa.morgan');
  await page.getByRole('heading', { name: 'Studies' }).waitFor();
  await page.goto(`${base}/audit`);
  await page.getByRole('button', { name: 'Verify now' }).click();
  await page.getByText('Pass.').waitFor();
  await page.getByLabel('Event type').fill('review_recorded');
  await page.getByRole('button', { name: 'Search' }).click();
  await page
    .getByRole('button', { name: /^Proof of a-/ })
    .first()
    .click();
  await page.getByText('Verified.').waitFor();
  // The verdict, the search and the proof in one picture.
  await page.evaluate(() => window.scrollTo(0, 260));
  await shot('audit');

  await page.goto(`${base}/health`);
  await page.getByRole('heading', { name: 'Decisions in the last 24 hours' }).waitFor();
  await shot('health');

  // Monitoring: the demo's stream (as `npm start` sends it after the seed), in distribution then a
  // contrast-shifted device; the monitors open an incident by themselves. Wait for the whole stream to
  // be judged, so that the charts show the shift after the alarm too.
  const streamed = server.streamDemoMonitoring();
  const streamDeadline = Date.now() + 20 * 60_000;
  const outcome = await streamed;
  console.log(`monitoring stream: ${JSON.stringify(outcome)}`);
  let incident;
  for (;;) {
    const overview = (await inject('GET', '/api/monitoring', engineer)).json();
    const site = overview.deployments.find((d) => d.site === 'default' && d.role === 'production');
    const { incidents } = (await inject('GET', '/api/incidents', engineer)).json();
    incident = incidents[0];
    if (incident !== undefined && overview.operations.queueDepth === 0 && site?.cases >= (outcome?.inDistribution ?? 0) + (outcome?.shifted ?? 0)) break;
    if (Date.now() > streamDeadline) throw new Error('the monitoring stream did not open an incident in time');
    await sleep(2000);
  }
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await logIn('erin.ml');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Monitoring' }).click();
  await page.getByRole('link', { name: 'default', exact: true }).click();
  await page.getByRole('heading', { name: 'Signals' }).waitFor();
  await page.mouse.move(0, 0);
  await shot('monitoring');

  await page.goto(`${base}/incidents/${encodeURIComponent(incident.incidentId)}`);
  await page.getByRole('region', { name: 'Linked alerts' }).getByRole('article').first().waitFor();
  await shot('incident');

  await page.goto(`${base}/releases`);
  await page.getByRole('heading', { name: 'Site default' }).waitFor();
  await page.getByRole('table', { name: /Release requests/ }).waitFor();
  await shot('releases');

  if (seeded.release !== undefined) {
    await page.goto(`${base}/releases/${encodeURIComponent(seeded.release.requestId)}`);
    await page.getByRole('heading', { name: 'Gates' }).waitFor();
    await shot('release-request');
  } else {
    console.warn('no demo release request: release-request.png not refreshed');
  }

  // The administrator (signed in with the first start's token) on the Users screen, an integration's tokens open.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await page.getByRole('radio', { name: 'API token' }).check();
  await page.locator('input[name="token"]').fill(admin);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Tokens of pacs' }).click();
  await page.getByRole('table', { name: 'API tokens of pacs' }).waitFor();
  await page.mouse.move(0, 0);
  await shot('users');
} finally {
  await browser?.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
