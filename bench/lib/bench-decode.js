/**
 * Decode throughput on the DICOM samples: Vigil (dcmjs + dcmjs-codecs WASM) against DCMTK and OpenJPEG on
 * the same files, in two views:
 *
 * a) per frame, start-up excluded. Vigil decodes in a warm process: the file is parsed once
 *    (readInstance, timed separately), every frame is decoded twice untimed, then all frames are decoded at
 *    least 10 times (and for at least 300 ms); the median time for all frames / frames is the figure.
 *    Each native tool runs as one process per file, ≥ 10 times, each run paired with a run of the same
 *    tool on a tiny 8×8 input of the same family just before it; the median of the paired differences
 *    removes the tool's start-up cost (process, dynamic loader, DCMTK's data dictionary, opening an output
 *    file). What is left is parse + decode + write of the file's pixels, compared with Vigil's parse +
 *    decode. For OpenJPEG the decode time it prints itself is reported beside it as a cross-check. When in
 *    a quarter or more of the pairs the file was no slower than the tiny input, the difference is "below
 *    noise" (no ratio).
 * b) per file as a user runs it: one process per file, wall clock from spawn to exit, median of ≥ 5 runs,
 *    for `node bench/decode-one.js FILE` (decode only: the fair comparison), `node bin/vigil.js predict FILE
 *    --json` (the whole pipeline with the demo model) and the native tool's command line.
 *
 * Ratios are peer / Vigil: above 1 means Vigil is faster.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { timeCommand } from './commands.js';
import { extractJ2kCodestream, readBytes, writeTinyFixtures } from './dicom-fixtures.js';
import { hasCommand } from './peers.js';
import { DICOM_SAMPLES_DIR, REPO_ROOT, importDist, makeOutputDir, makeScratchDir, removeDir } from './paths.js';
import { geometricMean, median, quantile, ratio, round, sampleTimes, summarize } from './stats.js';

/** Transfer syntax UID → label, family (for the per-syntax summary) and which native tool decodes it. */
const SYNTAXES = {
  '1.2.840.10008.1.2': { label: 'Implicit VR LE', family: 'uncompressed', tool: 'dcmconv' },
  '1.2.840.10008.1.2.1': { label: 'Explicit VR LE', family: 'uncompressed', tool: 'dcmconv' },
  '1.2.840.10008.1.2.2': { label: 'Explicit VR BE', family: 'uncompressed', tool: 'dcmconv' },
  '1.2.840.10008.1.2.1.99': { label: 'Deflated LE', family: 'deflated', tool: 'dcmconv' },
  '1.2.840.10008.1.2.5': { label: 'RLE', family: 'rle', tool: 'dcmdrle' },
  '1.2.840.10008.1.2.4.50': { label: 'JPEG baseline', family: 'jpeg-baseline', tool: 'dcmdjpeg' },
  '1.2.840.10008.1.2.4.51': { label: 'JPEG ext. 12-bit', family: 'jpeg-extended', tool: 'dcmdjpeg' },
  '1.2.840.10008.1.2.4.57': { label: 'JPEG lossless', family: 'jpeg-lossless', tool: 'dcmdjpeg' },
  '1.2.840.10008.1.2.4.70': { label: 'JPEG lossless SV1', family: 'jpeg-lossless', tool: 'dcmdjpeg' },
  '1.2.840.10008.1.2.4.80': { label: 'JPEG-LS lossless', family: 'jpeg-ls', tool: 'dcmdjpls' },
  '1.2.840.10008.1.2.4.81': { label: 'JPEG-LS near-lossless', family: 'jpeg-ls', tool: 'dcmdjpls' },
  '1.2.840.10008.1.2.4.90': { label: 'J2K lossless', family: 'jpeg2000', tool: 'opj_decompress' },
  '1.2.840.10008.1.2.4.91': { label: 'J2K', family: 'jpeg2000', tool: 'opj_decompress' },
  '1.2.840.10008.1.2.4.201': { label: 'HTJ2K lossless', family: 'htj2k', tool: 'opj_decompress' },
  '1.2.840.10008.1.2.4.202': { label: 'HTJ2K lossless RPCL', family: 'htj2k', tool: 'opj_decompress' },
  '1.2.840.10008.1.2.4.203': { label: 'HTJ2K', family: 'htj2k', tool: 'opj_decompress' },
};

/** How each tool is run; `fixture` names the tiny input that measures its start-up. */
const TOOLS = {
  dcmconv: {
    package: 'dcmtk',
    fixture: 'native',
    args: (input, out) => ['+te', input, join(out, 'out.dcm')],
    note: 'dcmconv +te: parse, inflate/byte-swap, write Explicit VR LE',
  },
  dcmdrle: { package: 'dcmtk', fixture: 'rle', args: (input, out) => [input, join(out, 'out.dcm')], note: 'dcmdrle: decode RLE, write Explicit VR LE' },
  dcmdjpeg: {
    package: 'dcmtk',
    fixture: 'jpeg',
    args: (input, out) => [input, join(out, 'out.dcm')],
    note: 'dcmdjpeg (default colour conversion to RGB): decode, write Explicit VR LE',
  },
  dcmdjpls: { package: 'dcmtk', fixture: 'jpeg-ls', args: (input, out) => [input, join(out, 'out.dcm')], note: 'dcmdjpls: decode, write Explicit VR LE' },
  opj_decompress: {
    package: 'libopenjp2-tools',
    fixture: 'j2k',
    // TIFF keeps 16-bit samples and is OpenJPEG's cheapest writer here (PGM/PPM output costs ~2x as much
    // on the CR images); one thread, as Vigil's WASM decoder has one.
    args: (input, out) => ['-i', input, '-o', join(out, 'out.tif')],
    note: 'opj_decompress -i codestream.j2k -o out.tif (1 thread, the default); the codestream is cut out of the DICOM beforehand, untimed',
  },
};

const OPJ_DECODE_TIME = /decode time:\s*([\d.]+)\s*ms/;

function listSamples() {
  return readdirSync(DICOM_SAMPLES_DIR)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => join(DICOM_SAMPLES_DIR, n));
}

/** A tool's start-up cost: its runs on the tiny input (median and IQR). */
function startupOf(samples) {
  return { median: round(median(samples)), iqr: round(quantile(samples, 0.75) - quantile(samples, 0.25)), n: samples.length };
}

export async function runDecodeBench({ quick = false, log = () => {}, peers }) {
  const peerReps = quick ? 5 : 15;
  const userReps = quick ? 3 : 5;
  const vigilMinReps = quick ? 5 : 10;
  const { DcmjsDicomReader } = await importDist('adapters/dicom-dcmjs/dcmjs-dicom-reader.js');
  const reader = new DcmjsDicomReader();
  const scratch = makeScratchDir('decode');
  const out = makeOutputDir('decode-out');
  const files = listSamples();
  if (files.length === 0) throw new Error(`no DICOM samples in ${DICOM_SAMPLES_DIR}`);

  try {
    // --- Untimed preparation: what each file is, its codestream for OpenJPEG, the tiny start-up inputs.
    const rows = [];
    for (const path of files) {
      const bytes = readBytes(path);
      const instance = await reader.readInstance(bytes);
      const uid = instance.attributes.transferSyntaxUid;
      const syntax = SYNTAXES[uid] ?? { label: uid, family: 'other', tool: null };
      const first = await instance.decodeFrame(0);
      const row = {
        file: basename(path),
        path,
        transferSyntaxUid: uid,
        syntax: syntax.label,
        family: syntax.family,
        frames: instance.frameCount,
        columns: first.columns,
        rows: first.rows,
        samplesPerPixel: first.samplesPerPixel,
        bitsAllocated: first.attributes.bitsAllocated,
        bytes: bytes.length,
        peer: { tool: syntax.tool, input: path },
      };
      if (syntax.tool === 'opj_decompress') {
        try {
          if (instance.frameCount !== 1) throw new Error('multi-frame J2K: one codestream per frame, not extracted');
          const codestream = join(scratch, `${basename(path, '.dcm')}.j2k`);
          writeFileSync(codestream, extractJ2kCodestream(bytes));
          row.peer.input = codestream;
        } catch (error) {
          row.peer = { tool: null, reason: `codestream not extracted: ${error.message}` };
        }
      }
      rows.push(row);
    }
    const fixtures = writeTinyFixtures(scratch);

    // Which tools can run: installed, and able to decode the file (checked once, untimed).
    const toolAvailable = Object.fromEntries(Object.entries(TOOLS).map(([name, tool]) => [name, hasCommand(name) && peers[tool.package]?.available !== false]));
    for (const row of rows) {
      const { tool } = row.peer;
      if (tool === null) {
        row.peer.reason ??= 'no native decoder for this syntax on this machine';
        continue;
      }
      if (!toolAvailable[tool]) {
        row.peer = { tool: null, reason: `${tool} is not installed (${peers[TOOLS[tool].package]?.message ?? 'not checked'})` };
        continue;
      }
      const probe = timeCommand(tool, TOOLS[tool].args(row.peer.input, out), { reps: 1, warmup: 0 });
      if (probe.failures.length > 0)
        row.peer = { tool: null, reason: `${tool} cannot decode it: ${probe.failures[0].stderr || `exit ${probe.failures[0].status}`}` };
    }

    // --- Measurements, file by file, so that everything compared for one file is measured in the same
    // few seconds (other work on this shared 2-core machine comes and goes). For each file, in rounds:
    // the native tool on its tiny input, then on the file (a pair: the difference removes the tool's
    // start-up), and in the first rounds also `node bench/decode-one.js FILE` and `vigil predict FILE`.
    // Then Vigil in this warm process.
    const usedTools = [...new Set(rows.map((r) => r.peer.tool).filter((t) => t !== null))];
    const startupSamples = Object.fromEntries(usedTools.map((t) => [t, []]));
    const once = (command, args, options = {}) => {
      const result = timeCommand(command, args, { reps: 1, warmup: 0, ...options });
      return result.failures.length > 0 ? undefined : { ms: result.samples[0], parsed: result.parsed[0] };
    };
    const selfReport = (stdout) => Number(OPJ_DECODE_TIME.exec(stdout)?.[1] ?? Number.NaN);
    const cliData = join(scratch, 'cli-data');
    mkdirSync(cliData, { recursive: true });
    const cliEnv = { ...process.env, VIGIL_DATA_DIR: cliData, VIGIL_LOG_LEVEL: 'silent' };
    const decodeOne = join(REPO_ROOT, 'bench', 'decode-one.js');
    const vigilCli = join(REPO_ROOT, 'bin', 'vigil.js');
    // `vigil predict` exits 0, or non-zero when an input failed; either way the run is timed.
    const cliStatuses = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const decodeOneArgs = (file) => [decodeOne, file];
    const predictArgs = (file) => [vigilCli, 'predict', file, '--json'];

    log('  vigil: start-up (node bench/decode-one.js and vigil predict on the tiny file)');
    const vigilStartup = {
      decodeOne: summarize(timeCommand(process.execPath, decodeOneArgs(fixtures.native), { reps: userReps, warmup: 1 }).samples),
      predictCli: summarize(
        timeCommand(process.execPath, predictArgs(fixtures.native), { reps: userReps, warmup: 1, env: cliEnv, okStatuses: cliStatuses }).samples,
      ),
    };

    for (const row of rows) {
      const { tool } = row.peer;
      const fixture = tool === null ? null : fixtures[TOOLS[tool].fixture];
      const parse = tool === 'opj_decompress' ? selfReport : undefined;
      log(`  ${row.file}: ${tool ?? 'no peer'} + vigil, one process per run`);
      // Warm-ups: page cache, dynamic loader.
      if (tool !== null) {
        once(tool, TOOLS[tool].args(row.peer.input, out));
        if (fixture !== null) once(tool, TOOLS[tool].args(fixture, out));
      }
      once(process.execPath, decodeOneArgs(row.path));
      once(process.execPath, predictArgs(row.path), { env: cliEnv, okStatuses: cliStatuses });
      const peerMs = [];
      const differences = [];
      const selfReported = [];
      const oneMs = [];
      const cliMs = [];
      let peerFailures = 0;
      let vigilFailures = 0;
      for (let i = 0; i < Math.max(tool === null ? 0 : peerReps, userReps); i++) {
        if (tool !== null && i < peerReps) {
          const tiny = fixture === null ? undefined : once(tool, TOOLS[tool].args(fixture, out));
          const run = once(tool, TOOLS[tool].args(row.peer.input, out), { parse });
          if (run === undefined) peerFailures++;
          else {
            peerMs.push(run.ms);
            if (Number.isFinite(run.parsed)) selfReported.push(run.parsed);
            if (tiny !== undefined) {
              startupSamples[tool].push(tiny.ms);
              differences.push(run.ms - tiny.ms);
            }
          }
        }
        if (i < userReps) {
          const one = once(process.execPath, decodeOneArgs(row.path));
          const cli = once(process.execPath, predictArgs(row.path), { env: cliEnv, okStatuses: cliStatuses });
          if (one === undefined || cli === undefined) vigilFailures++;
          if (one !== undefined) oneMs.push(one.ms);
          if (cli !== undefined) cliMs.push(cli.ms);
        }
      }
      if (tool !== null) {
        row.peer.perFile = summarize(peerMs);
        row.peer.failures = peerFailures;
        if (differences.length > 0) row.peer.pairedDifferenceMs = summarize(differences);
        if (selfReported.length > 0) row.peer.selfReportedDecodeMs = summarize(selfReported);
      }
      const fresh = once(process.execPath, [decodeOne, row.path, '--json'], { parse: (stdout) => JSON.parse(stdout) });
      row.vigilPerFile = {
        decodeOne: summarize(oneMs),
        predictCli: summarize(cliMs),
        failures: vigilFailures,
        // One fresh process's own account: module import, parse, and the first decode (WASM compile included).
        freshProcess: fresh?.parsed ?? null,
      };

      // Vigil in this (warm) process.
      const bytes = readBytes(row.path);
      const parseSamples = await sampleTimes(() => reader.readInstance(bytes), { warmup: 2, minReps: vigilMinReps, minTotalMs: 50, maxReps: 500 });
      const instance = await reader.readInstance(bytes);
      const decodeAll = async () => {
        for (let i = 0; i < instance.frameCount; i++) await instance.decodeFrame(i);
      };
      const decodeSamples = await sampleTimes(decodeAll, { warmup: 2, minReps: vigilMinReps, minTotalMs: quick ? 100 : 300, maxReps: 200 });
      const parseMs = median(parseSamples);
      const decodeMs = median(decodeSamples);
      row.vigilWarm = {
        parseMs: summarize(parseSamples),
        decodeAllFramesMs: summarize(decodeSamples),
        perFrameMs: round(decodeMs / row.frames),
        parseAndDecodeMs: round(parseMs + decodeMs),
      };
    }
    const startup = Object.fromEntries(usedTools.map((t) => [t, startupSamples[t].length > 0 ? startupOf(startupSamples[t]) : null]));

    // --- Ratios.
    for (const row of rows) {
      const vigilFile = row.vigilWarm.parseAndDecodeMs;
      row.vigilWarm.parseAndDecodePerFrameMs = round(vigilFile / row.frames);
      row.comparison = { startupExcluded: null, perFile: null };
      if (row.peer.tool !== null && row.peer.perFile !== undefined) {
        const paired = row.peer.pairedDifferenceMs;
        if (paired !== undefined) {
          // Noise: in a quarter or more of the pairs the file was no slower than the tiny input.
          const belowNoise = paired.p25 <= 0;
          const net = Math.max(paired.median, 0);
          row.comparison.startupExcluded = {
            peerNetMs: round(net),
            peerNetPerFrameMs: round(net / row.frames),
            vigilPerFrameMs: row.vigilWarm.parseAndDecodePerFrameMs,
            belowNoise,
            ratio: belowNoise ? null : ratio(net, vigilFile),
          };
        }
        if (row.peer.selfReportedDecodeMs !== undefined) {
          row.comparison.selfReported = {
            peerDecodeMs: row.peer.selfReportedDecodeMs.median,
            vigilDecodeMs: row.vigilWarm.decodeAllFramesMs.median,
            ratio: ratio(row.peer.selfReportedDecodeMs.median, row.vigilWarm.decodeAllFramesMs.median),
          };
        }
        row.comparison.perFile = {
          peerMs: row.peer.perFile.median,
          vigilDecodeOneMs: row.vigilPerFile.decodeOne.median,
          vigilPredictCliMs: row.vigilPerFile.predictCli.median,
          ratioVsDecodeOne: ratio(row.peer.perFile.median, row.vigilPerFile.decodeOne.median),
          ratioVsPredictCli: ratio(row.peer.perFile.median, row.vigilPerFile.predictCli.median),
        };
      }
    }

    // --- Per syntax family: geometric means of the per-file ratios, and summed medians.
    const families = {};
    for (const row of rows) {
      const f = (families[row.family] ??= {
        files: 0,
        frames: 0,
        tool: row.peer.tool,
        startupExcludedRatios: [],
        perFileRatios: [],
        vigilWarmMs: 0,
        peerNetMs: 0,
        noPeer: 0,
      });
      f.files++;
      f.frames += row.frames;
      f.tool ??= row.peer.tool;
      f.vigilWarmMs += row.vigilWarm.parseAndDecodeMs;
      if (row.peer.tool === null) f.noPeer++;
      const se = row.comparison.startupExcluded;
      if (se !== null) {
        f.peerNetMs += se.peerNetMs;
        if (se.ratio !== null) f.startupExcludedRatios.push(se.ratio);
      }
      if (row.comparison.perFile !== null && row.comparison.perFile.ratioVsDecodeOne !== null) f.perFileRatios.push(row.comparison.perFile.ratioVsDecodeOne);
    }
    const bySyntaxFamily = Object.fromEntries(
      Object.entries(families).map(([name, f]) => [
        name,
        {
          files: f.files,
          frames: f.frames,
          peer: f.tool ?? 'no peer',
          filesWithoutPeer: f.noPeer,
          startupExcludedRatioGeomean: geometricMean(f.startupExcludedRatios),
          startupExcludedRatiosMeasured: f.startupExcludedRatios.length,
          perFileRatioGeomean: geometricMean(f.perFileRatios),
          vigilWarmTotalMs: round(f.vigilWarmMs),
          peerNetTotalMs: round(f.peerNetMs),
        },
      ]),
    );
    const compared = rows.filter((r) => r.comparison.perFile !== null);
    const totals = {
      filesCompared: compared.length,
      framesCompared: compared.reduce((s, r) => s + r.frames, 0),
      vigilWarmMs: round(compared.reduce((s, r) => s + r.vigilWarm.parseAndDecodeMs, 0)),
      peerNetMs: round(compared.reduce((s, r) => s + (r.comparison.startupExcluded?.peerNetMs ?? 0), 0)),
      vigilDecodeOneMs: round(compared.reduce((s, r) => s + r.vigilPerFile.decodeOne.median, 0)),
      vigilPredictCliMs: round(compared.reduce((s, r) => s + r.vigilPerFile.predictCli.median, 0)),
      peerPerFileMs: round(compared.reduce((s, r) => s + r.peer.perFile.median, 0)),
    };
    totals.startupExcludedRatio = ratio(totals.peerNetMs, totals.vigilWarmMs);
    totals.perFileRatioVsDecodeOne = ratio(totals.peerPerFileMs, totals.vigilDecodeOneMs);
    totals.perFileRatioVsPredictCli = ratio(totals.peerPerFileMs, totals.vigilPredictCliMs);

    return {
      benchmark: 'decode',
      method: {
        ratio: 'peer / Vigil, > 1 means Vigil is faster; medians throughout',
        startupExcluded:
          `Vigil: warm process, readInstance median (≥ ${vigilMinReps} reps) + decodeFrame of every frame (2 untimed warm-ups, then ≥ ${vigilMinReps} reps and ≥ ${quick ? 100 : 300} ms), ` +
          `pixels kept in memory. Native tool: median wall time of one process per file (${peerReps} reps after 1 warm-up) minus the same tool on a tiny 8×8 input of the same family, ` +
          `run just before each timed run (median of the ${peerReps} paired differences), i.e. parse + decode + write of the file's pixels to tmpfs. When the lower quartile of the differences is ≤ 0 the result is 'below noise'. ` +
          'OpenJPEG also prints its own decode time (selfReported), compared with Vigil decodeFrame alone.',
        perFile: `one process per file, spawned from Node, wall clock to exit, median of ${userReps} (Vigil) / ${peerReps} (peers) runs after 1 warm-up, the runs of all commands for one file interleaved; decode-one = node bench/decode-one.js FILE (import reader, parse, decode all frames); predictCli = node bin/vigil.js predict FILE --json with the demo model and a scratch data dir (parse, decode, preprocess, gate, infer, durable audit append)`,
        tools: Object.fromEntries(Object.entries(TOOLS).map(([n, t]) => [n, t.note])),
        outputDirectory: out.startsWith('/dev/shm') ? 'tmpfs (/dev/shm)' : 'scratch disk',
      },
      peerStartupMs: startup,
      vigilStartupMs: vigilStartup,
      files: rows.map(({ path: _path, peer: { input: _input, ...peer }, ...row }) => ({ ...row, peer })),
      bySyntaxFamily,
      totals,
    };
  } finally {
    removeDir(scratch);
    removeDir(out);
  }
}
