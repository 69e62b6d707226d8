import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeReport } from '../../domain/evaluation/report-summary.js';
import type { EvaluationReportListing, ModelDocuments } from '../../ports/model-documents.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';

/** A report folder's name: plain, so that it can never climb out of its parent. */
const REPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Larger files are skipped rather than read into memory (a report.json is a few hundred kB). */
const MAX_FILE_BYTES = 32 * 1024 ** 2;

/**
 * The model card (`<model dir>/MODEL_CARD.md`) and evaluation reports under `<model dir>/reports/`
 * and, if configured, VIGIL_REPORTS_DIR (`<name>/report.json` + `report.html`). A name found in both
 * is the model folder's.
 */
export class FsModelDocuments implements ModelDocuments {
  private readonly folders: readonly string[];

  constructor(
    private readonly modelDir: string,
    reportsDir?: string,
  ) {
    this.folders = [join(modelDir, 'reports'), ...(reportsDir === undefined ? [] : [reportsDir])];
  }

  async modelCard(): Promise<string | null> {
    return (await readSmall(join(this.modelDir, 'MODEL_CARD.md'))) ?? null;
  }

  async listReports(): Promise<readonly EvaluationReportListing[]> {
    const found = new Map<string, EvaluationReportListing>();
    for (const folder of this.folders) {
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (!REPORT_NAME.test(name) || found.has(name)) continue;
        const text = await readSmall(join(folder, name, 'report.json'));
        if (text === undefined) continue;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          continue; // Not a report: skipped, as a folder without one is.
        }
        found.set(name, { name, ...summarizeReport(json) });
      }
    }
    return [...found.values()].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name));
  }

  async reportHtml(name: string): Promise<string | undefined> {
    if (!REPORT_NAME.test(name)) return undefined;
    for (const folder of this.folders) {
      if ((await readSmall(join(folder, name, 'report.json'))) === undefined) continue;
      return readSmall(join(folder, name, 'report.html'));
    }
    return undefined;
  }

  async reportJson(name: string): Promise<string | undefined> {
    if (!REPORT_NAME.test(name)) return undefined;
    for (const folder of this.folders) {
      const text = await readSmall(join(folder, name, 'report.json'));
      if (text !== undefined) return text;
    }
    return undefined;
  }
}

async function readSmall(path: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await readRegularFile(path, 'bundle document', MAX_FILE_BYTES));
  } catch {
    return undefined;
  }
}
