/**
 * What the dashboard's end-to-end test needs around the browser: Debian's Chromium driven headless by
 * playwright-core, the dashboard built from the current sources, and axe's verdict.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/**
 * Headless, and nothing that reaches out to Google's services (the test machine may be offline).
 * `--no-sandbox`: CI containers run as root, where Chromium's sandbox cannot start.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Chromium with a fresh profile: playwright's `launch` gives every browser a new temporary user-data
 * folder (and refuses a `--user-data-dir` argument), so no cookie or cache survives from another run.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return { browser, close: () => browser.close() };
}

/** Builds the dashboard from the current sources into `outDir` (as `npm run build` does into dist/dashboard). */
export async function buildDashboard(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(REPO_ROOT, 'dashboard', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

/** Serious and critical axe violations (WCAG 2.1 A and AA rules) on the page as it is now. */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact ?? ''}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Creates a user with a password through the API, as the first administrator (the server's bootstrap token); returns the user's API token. */
export async function createDashboardUser(server: ApiServer, name: string, role: string, password: string): Promise<string> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
    payload: { name, role, password },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ token: string }>().token;
}
