/**
 * De-identification throughput on the DICOM samples (all *.dcm in ../shared/data/dicom-samples, × `reps`),
 * Vigil beside two native peers doing the equivalent edits, in one run:
 *
 * - Vigil, per file as a user runs it: `node bin/vigil.js deid FILE --out DIR --option retain-device-identity
 *   --option retain-longitudinal-modified-dates --json`, one process per file (the full profile: Table
 *   E.1-1 with options, keyed pseudonyms, UID remapping, date shifting, text cleaning, quarantine checks,
 *   meta rebuild, atomic write with fsync).
 * - Vigil in a warm process: ElementDeidentifier.deidentify + writing the file, the same work without the
 *   Node start-up (the way the server will run it).
 * - `gdcmanon --dumb` with the equivalent lists from Table E.1-1 (X → --remove, Z → --empty, D/U → --replace
 *   with a fixed dummy, since dumb mode cannot remap consistently), one process per file.
 * - DCMTK `dcmodify` doing the same edits (-ea / -ma, -ep for private tags), one process per file on a
 *   copy (dcmodify edits in place; the copy is not timed).
 *
 * Each file is processed `reps` times per tool (default 5, 1 with --quick). Reported: files/s and MB/s (input
 * bytes) per tool, and ratios Vigil / peer (> 1 means Vigil is faster). Quarantined files count as processed:
 * Vigil reads and judges them and writes a reason file.
 *
 * Contract (for bench/lib/run-section.js): `benchDeid({ quick?: boolean, log?: (msg) => void, install?: boolean,
 * reps?: number })` → a JSON-able result object; needs dist/ built (npm run build). It installs Debian
 * `libgdcm-tools` and `dcmtk` with apt-get when missing and `install` is not false (root only); a peer that
 * is still missing is reported under `skipped`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand } from './peers.js';
import { DICOM_SAMPLES_DIR, REPO_ROOT, importDist, makeOutputDir, makeScratchDir, removeDir } from './paths.js';
import { nowMs, ratio, round } from './stats.js';

const TABLE_JSON = join(DICOM_SAMPLES_DIR, '..', 'dicom-standard', 'confidentiality_profile_attributes.json');

function ensureTools({ install, log }) {
  const missing = [];
  if (!hasCommand('gdcmanon')) missing.push('libgdcm-tools');
  if (!hasCommand('dcmodify')) missing.push('dcmtk');
  if (missing.length === 0 || install === false) return;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return;
  log(`installing ${missing.join(' ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, stdio: 'ignore', timeout: 900_000 });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, stdio: 'ignore', timeout: 900_000 });
  }
}

/**
 * gdcmanon --dumb refuses (exit 1) to edit a tag its dictionary does not know, and to empty a sequence; each
 * edit is probed once, untimed, on a small sample, and the refused ones are left out of its list (counted).
 */
function gdcmAccepts(args, probeInput, probeOutput) {
  return spawnSync('gdcmanon', ['--dumb', ...args, '-i', probeInput, '-o', probeOutput], { stdio: 'ignore' }).status === 0;
}

/** Table E.1-1 (exact public tags) as the peers' edit lists. */
function peerEdits(probeInput, probeOutput) {
  const rows = JSON.parse(readFileSync(TABLE_JSON, 'utf8'));
  const gdcm = ['--dumb'];
  const canGdcm = hasCommand('gdcmanon');
  let gdcmRefused = 0;
  const dcmtk = ['-nb', '-imt', '-ie', '-ep'];
  const addGdcm = (args) => {
    if (canGdcm && gdcmAccepts(args, probeInput, probeOutput)) gdcm.push(...args);
    else gdcmRefused++;
  };
  for (const row of rows) {
    const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(row.tag);
    if (!m || m[1] === '0000' || m[1] === '0002') continue;
    const tag = `${m[1]},${m[2]}`;
    const action = row.basicProfile;
    if (action === 'X') {
      addGdcm(['--remove', tag]);
      dcmtk.push('-ea', `(${tag})`);
    } else if (action === 'Z' || action === 'X/Z') {
      addGdcm(['--empty', tag]);
      dcmtk.push('-ma', `(${tag})=`);
    } else if (action === 'U') {
      addGdcm(['--replace', `${tag}=2.25.1`]);
      dcmtk.push('-ma', `(${tag})=2.25.1`);
    } else if (action !== 'X/Z/U*') {
      addGdcm(['--replace', `${tag}=DUMMY`]);
      dcmtk.push('-ma', `(${tag})=DUMMY`);
    }
  }
  return { gdcm, dcmtk, gdcmRefused };
}

function perFile(label, files, reps, runOne) {
  let totalMs = 0;
  let failures = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const file of files) {
      const { ms, ok } = runOne(file, rep);
      totalMs += ms;
      if (!ok) failures++;
    }
  }
  return summarizeRun(label, files, reps, totalMs, failures);
}

function summarizeRun(label, files, reps, totalMs, failures) {
  const count = files.length * reps;
  const bytes = files.reduce((n, f) => n + f.bytes, 0) * reps;
  return {
    label,
    files: count,
    failures,
    totalMs: round(totalMs),
    filesPerSecond: round(count / (totalMs / 1000)),
    mbPerSecond: round(bytes / 1e6 / (totalMs / 1000)),
  };
}

function timed(command, args, options) {
  const start = nowMs();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { ms: nowMs() - start, ok: r.error === undefined && r.status === 0 };
}

export async function benchDeid(context = {}) {
  const log = context.log ?? (() => {});
  const reps = context.reps ?? (context.quick ? 1 : 5);
  ensureTools({ install: context.install, log });
  const files = readdirSync(DICOM_SAMPLES_DIR)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => ({ name: n, path: join(DICOM_SAMPLES_DIR, n), bytes: statSync(join(DICOM_SAMPLES_DIR, n)).size }));
  const scratch = makeScratchDir('deid');
  const out = makeOutputDir('deid-out');
  const skipped = {};
  const results = {};
  try {
    const secret = join(scratch, 'secret');
    const env = { ...process.env, VIGIL_DATA_DIR: join(scratch, 'data'), VIGIL_LOG_LEVEL: 'silent' };
    const options = ['--option', 'retain-device-identity', '--option', 'retain-longitudinal-modified-dates', '--secret-file', secret, '--json'];
    // Create the secret once, untimed.
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'vigil.js'), 'deid', files[0].path, '--out', join(out, 'warm'), ...options], { env });

    log(`vigil per file: ${files.length} files × ${reps}…`);
    results.vigilPerFile = perFile('node bin/vigil.js deid FILE (one process per file)', files, reps, (f, rep) =>
      timed(process.execPath, [join(REPO_ROOT, 'bin', 'vigil.js'), 'deid', f.path, '--out', join(out, `v${rep}`), ...options], { env }),
    );

    log(`vigil one process for all files: ${files.length} files × ${reps}…`);
    let batchMs = 0;
    for (let rep = 0; rep < reps; rep++) {
      batchMs += timed(process.execPath, [join(REPO_ROOT, 'bin', 'vigil.js'), 'deid', ...files.map((f) => f.path), '--out', join(out, `b${rep}`), ...options], {
        env,
      }).ms;
    }
    results.vigilOneProcess = summarizeRun('node bin/vigil.js deid FILE... (one process for all 20 files)', files, reps, batchMs, 0);

    log('vigil warm process…');
    const { ElementDeidentifier } = await importDist('adapters/dicom-dcmjs/element-deidentifier.js');
    const { createKeyedDigest } = await importDist('adapters/crypto-node/keyed-digest.js');
    const deidentifier = new ElementDeidentifier();
    const request = {
      profile: { name: 'basic', options: new Set(['retain-device-identity', 'retain-longitudinal-modified-dates']) },
      digest: createKeyedDigest(Buffer.alloc(32, 7)),
      pixelRules: [],
    };
    const warmDir = join(out, 'warm-process');
    mkdirSync(warmDir, { recursive: true });
    const once = async (f) => {
      const bytes = readFileSync(f.path);
      const outcome = await deidentifier.deidentify(bytes, request);
      if (outcome.status === 'deidentified') writeFileSync(join(warmDir, `${outcome.sopInstanceUid}.dcm`), outcome.bytes);
      else writeFileSync(join(warmDir, `${outcome.sopInstanceUid}.reason.json`), JSON.stringify(outcome.reasons));
    };
    for (const f of files) await once(f); // warm-up: JIT, first-use costs
    let warmMs = 0;
    for (let rep = 0; rep < reps; rep++) {
      for (const f of files) {
        const start = nowMs();
        await once(f);
        warmMs += nowMs() - start;
      }
    }
    results.vigilWarm = summarizeRun('ElementDeidentifier in a warm process (read + deidentify + write)', files, reps, warmMs, 0);

    log("building the peers' edit lists from Table E.1-1 (probing gdcmanon, untimed)…");
    const edits = peerEdits(join(DICOM_SAMPLES_DIR, 'ct_small_explicitLE.dcm'), join(out, 'probe.dcm'));
    if (hasCommand('gdcmanon')) {
      log('gdcmanon --dumb per file…');
      results.gdcmanon = perFile(
        `gdcmanon --dumb (${edits.gdcm.length} args from Table E.1-1; ${edits.gdcmRefused} edits it refuses left out)`,
        files,
        reps,
        (f, rep) => timed('gdcmanon', [...edits.gdcm, '-i', f.path, '-o', join(out, `g${rep}-${f.name}`)]),
      );
    } else skipped.gdcmanon = 'gdcmanon not installed (Debian libgdcm-tools)';
    if (hasCommand('dcmodify')) {
      log('dcmodify per file…');
      results.dcmodify = perFile(`dcmodify (${edits.dcmtk.length} args from Table E.1-1, on a copy)`, files, reps, (f, rep) => {
        const copy = join(out, `d${rep}-${f.name}`);
        copyFileSync(f.path, copy);
        return timed('dcmodify', [...edits.dcmtk, copy]);
      });
    } else skipped.dcmodify = 'dcmodify not installed (Debian dcmtk)';
  } finally {
    removeDir(scratch);
    removeDir(out);
  }
  const ratios = {};
  for (const peer of ['gdcmanon', 'dcmodify']) {
    if (!results[peer]) continue;
    ratios[peer] = {
      perFile: ratio(results.vigilPerFile.filesPerSecond, results[peer].filesPerSecond),
      oneProcessForAllFiles: ratio(results.vigilOneProcess.filesPerSecond, results[peer].filesPerSecond),
      warmProcess: ratio(results.vigilWarm.filesPerSecond, results[peer].filesPerSecond),
    };
  }
  return {
    ratioMeaning: 'Vigil files/s ÷ peer files/s: > 1 means Vigil is faster; goal ≥ 5 (issue 3)',
    samples: files.length,
    reps,
    inputMegabytes: round(files.reduce((n, f) => n + f.bytes, 0) / 1e6),
    results,
    ratios,
    skipped,
  };
}

// `node bench/lib/bench-deid.js [--quick]` runs it alone and prints the result.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchDeid({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`[deid] ${m}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
