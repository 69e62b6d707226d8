/**
 * The whole predict path against the model alone, on the PneumoniaMNIST test images written as grey PNGs.
 *
 * Pipeline: `createServices(config, silent logger).predict(paths, { declared: CR/CHEST/PA })` in this
 * (warm) process, with a fresh data dir per run. Bare model: the same bundle loaded through the same runner
 * adapter (OnnxModelRunner, the configuration's execution provider and thread count), `run()` on the very
 * tensors the pipeline's preprocessing makes, batched as the pipeline batches (config batch size, default
 * 16). See runPredictBench for how the two are paired. Overhead per image = pipeline − bare, also as % of
 * the bare model's per-image cost.
 *
 * Where the overhead goes: the time the pipeline spends inside ONNX Runtime's `InferenceSession.run` is
 * measured by wrapping that method (the bench's own process, same onnxruntime-node module instance), so
 * the overhead splits into "model slower inside the pipeline" (inside − bare) and "work outside the model"
 * (pipeline − inside). A stage breakdown (instrumented passes over the same images, each stage timed on its
 * own with the project's functions) says what the work outside the model is.
 */
import ort from 'onnxruntime-node';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PNEUMONIA_NPZ, REPO_ROOT, importDist, makeScratchDir, removeDir } from './paths.js';
import { median, nowMs, quantile, ratio, round, summarize } from './stats.js';

const DECLARED = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA' };
const WARMUP_IMAGES = 16;

async function loadModules() {
  const [main, config, logging, raster, png, npz, bundles, runner, preprocess, features, gate, hasher, pseudonymizer, audit] = await Promise.all([
    importDist('main.js'),
    importDist('config/load-config.js'),
    importDist('logging/create-logger.js'),
    importDist('adapters/image-sharp/sharp-raster-reader.js'),
    importDist('adapters/image-sharp/encode-png.js'),
    importDist('adapters/dataset-medmnist/read-npz.js'),
    importDist('adapters/model-bundle-fs/fs-model-bundle-source.js'),
    importDist('adapters/onnx-runtime/onnx-model-runner.js'),
    importDist('domain/preprocessing/preprocess.js'),
    importDist('domain/quality/image-features.js'),
    importDist('domain/quality/gate.js'),
    importDist('adapters/crypto-node/node-hasher.js'),
    importDist('adapters/crypto-node/hmac-pseudonymizer.js'),
    importDist('adapters/store-sqlite/sqlite-audit-log.js'),
  ]);
  return {
    createServices: main.createServices,
    loadConfig: config.loadConfig,
    createLogger: logging.createLogger,
    SharpRasterReader: raster.SharpRasterReader,
    encodeGreyPng: png.encodeGreyPng,
    readMedmnistSplit: npz.readMedmnistSplit,
    FsModelBundleSource: bundles.FsModelBundleSource,
    OnnxModelRunner: runner.OnnxModelRunner,
    preprocessFrame: preprocess.preprocessFrame,
    computeImageFeatures: features.computeImageFeatures,
    gateImage: gate.gateImage,
    nodeHasher: hasher.nodeHasher,
    HmacPseudonymizer: pseudonymizer.HmacPseudonymizer,
    SqliteAuditLog: audit.SqliteAuditLog,
  };
}

/** Writes the first `count` test images as PNG files (untimed) and returns the folders. */
async function writePngs(m, scratch, count) {
  const split = m.readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'test');
  const n = Math.min(count ?? split.images.length, split.images.length);
  const images = join(scratch, 'images');
  const warmup = join(scratch, 'warmup');
  mkdirSync(images);
  mkdirSync(warmup);
  for (let i = 0; i < n; i++) {
    const bytes = await m.encodeGreyPng(split.images[i], split.width, split.height);
    writeFileSync(join(images, `${String(i).padStart(4, '0')}.png`), bytes);
    if (i < WARMUP_IMAGES) writeFileSync(join(warmup, `w${String(i).padStart(4, '0')}.png`), bytes);
  }
  const files = Array.from({ length: n }, (_, i) => join(images, `${String(i).padStart(4, '0')}.png`));
  return { images, warmup, files, width: split.width, height: split.height, splitSize: split.images.length };
}

function batchesOf(tensors, batchSize) {
  const batches = [];
  for (let start = 0; start < tensors.length; start += batchSize) {
    const slice = tensors.slice(start, start + batchSize);
    const input = new Float32Array(slice.length * slice[0].length);
    slice.forEach((t, i) => input.set(t, i * t.length));
    batches.push({ input, size: slice.length });
  }
  return batches;
}

/** Accumulates the wall time spent in every InferenceSession.run of this process while `on`. */
const sessionRunClock = { on: false, ms: 0, calls: 0 };
const originalRun = ort.InferenceSession.prototype.run;
ort.InferenceSession.prototype.run = async function timedRun(...args) {
  if (!sessionRunClock.on) return originalRun.apply(this, args);
  const start = nowMs();
  try {
    return await originalRun.apply(this, args);
  } finally {
    sessionRunClock.ms += nowMs() - start;
    sessionRunClock.calls++;
  }
};

async function timeBare(session, batches) {
  const start = nowMs();
  for (const { input, size } of batches) await session.run(input, size);
  return nowMs() - start;
}

function decisionEvent(identity, studyKey, pixelSha256, configHash, gate, probability) {
  return {
    type: 'decision',
    status: 'decided',
    studyKey,
    pixelSha256,
    frameIndex: 0,
    model: identity,
    configHash,
    gate: {
      verdict: gate.verdict,
      reasons: gate.reasons.map((r) => ({
        code: r.code,
        verdict: r.verdict,
        ...(r.measured === undefined ? {} : { measured: r.measured }),
        ...(r.threshold === undefined ? {} : { threshold: r.threshold }),
      })),
    },
    outputs: [{ finding: 'finding', probability, decision: probability >= 0.5 ? 'positive' : 'negative' }],
  };
}

/**
 * One instrumented pass: each stage of the pipeline run on its own over all images, with the same
 * functions the workflow calls, so the sum can be set against the pipeline's time.
 */
async function breakdownPass(m, { files, bundle, session, batchSize, scratch }) {
  const raster = new m.SharpRasterReader();
  const pseudonymizer = new m.HmacPseudonymizer(new Uint8Array(32).fill(7));
  const dataDir = join(scratch, `breakdown-${Date.now()}`);
  const audit = m.SqliteAuditLog.open({ dataDir, clock: { now: () => new Date() } });
  const t = { readFile: 0, pngDecode: 0, hashing: 0, preprocess: 0, features: 0, gate: 0, batchAssembly: 0, inference: 0, auditAppend: 0 };
  const pending = [];
  const infer = async () => {
    let s = nowMs();
    const perImage = pending[0].tensor.length;
    const input = new Float32Array(perImage * pending.length);
    pending.forEach((p, i) => input.set(p.tensor, i * perImage));
    t.batchAssembly += nowMs() - s;
    s = nowMs();
    await session.run(input, pending.length);
    t.inference += nowMs() - s;
    s = nowMs();
    for (const p of pending) await audit.append(decisionEvent(bundle.identity, p.studyKey, p.pixelSha256, 'cd'.repeat(32), p.gate, 0.5));
    t.auditAppend += nowMs() - s;
    pending.length = 0;
  };
  try {
    for (const file of files) {
      let s = nowMs();
      const bytes = await readFile(file);
      t.readFile += nowMs() - s;
      s = nowMs();
      const decoded = await raster.readRaster(bytes);
      const frame = { ...decoded, attributes: { ...decoded.attributes, ...DECLARED } };
      t.pngDecode += nowMs() - s;
      s = nowMs();
      const studyKey = pseudonymizer.studyKey(`sha256:${m.nodeHasher.sha256Hex(bytes)}`);
      const pixelSha256 = m.nodeHasher.sha256Hex(new Uint8Array(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength));
      t.hashing += nowMs() - s;
      s = nowMs();
      const prepared = m.preprocessFrame(frame, bundle.manifest);
      t.preprocess += nowMs() - s;
      s = nowMs();
      const features = m.computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
      t.features += nowMs() - s;
      s = nowMs();
      const gate = m.gateImage({ attributes: frame.attributes, rows: frame.rows, columns: frame.columns, features }, bundle.manifest);
      t.gate += nowMs() - s;
      pending.push({ tensor: prepared.tensor, studyKey, pixelSha256, gate });
      if (pending.length >= batchSize) await infer();
    }
    if (pending.length > 0) await infer();
  } finally {
    await audit.close();
    removeDir(dataDir);
  }
  return t;
}

/** Process CPU time (all threads: JS, ONNX Runtime, libuv, GC) in milliseconds. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs the pipeline and the bare model on the same images and compares them.
 *
 * Per run (fresh data dir and services): a cold call on a separate 16-image folder, then one predict()
 * over the whole image folder (the headline pipeline time), then the images again as consecutive chunks
 * of 3 batches, each chunk's predict() call immediately followed by the bare model on the same chunk.
 * Those chunk pairs, a second or so apart, are what the overhead is computed from (median over all pairs):
 * on a shared 2-core machine, load from other work changes within seconds, and a pair sees the same load
 * on both sides far more often than two whole-folder runs do.
 */
export async function runPredictBench({
  label,
  modelDir,
  images: imageCount,
  runs = 3,
  bareBatchSizes,
  breakdown = true,
  wholeFolder = true,
  intraOpThreads,
  quick = false,
  log = () => {},
}) {
  const m = await loadModules();
  const scratch = makeScratchDir(`predict-${label}`);
  try {
    log(`  writing PneumoniaMNIST test images as PNG (untimed)`);
    const inputs = await writePngs(m, scratch, quick ? Math.min(imageCount ?? 160, 160) : imageCount);
    const n = inputs.files.length;
    const overrides = { logLevel: 'silent', ...(intraOpThreads === undefined ? {} : { intraOpThreads: String(intraOpThreads) }) };
    const baseConfig = m.loadConfig(process.env, REPO_ROOT, { ...overrides, dataDir: join(scratch, 'unused') });
    const batchSize = baseConfig.batchSize;
    const logger = m.createLogger('silent');

    // The bare model, through the same adapter and options the services use.
    const bundle = await new m.FsModelBundleSource().loadBundle(modelDir);
    const runner = new m.OnnxModelRunner({ executionProvider: baseConfig.executionProvider, intraOpThreads: baseConfig.intraOpThreads });
    const session = await runner.createSession(bundle);
    log(`  preprocessing ${n} images for the bare model (untimed)`);
    const raster = new m.SharpRasterReader();
    const tensors = [];
    for (const file of inputs.files) {
      const decoded = await raster.readRaster(await readFile(file));
      tensors.push(m.preprocessFrame({ ...decoded, attributes: { ...decoded.attributes, ...DECLARED } }, bundle.manifest).tensor);
    }
    const sizes = [...new Set([batchSize, ...(bareBatchSizes ?? [])])];
    const batchesBySize = Object.fromEntries(sizes.map((b) => [b, batchesOf(tensors, b)]));
    for (const b of sizes) await timeBare(session, batchesBySize[b].slice(0, 2)); // warm-up

    // Chunks of whole batches, each in a folder of its own, with their bare batches.
    const chunkSize = 3 * batchSize;
    const chunks = [];
    for (let start = 0; start < n; start += chunkSize) {
      const dir = join(scratch, `chunk-${String(chunks.length).padStart(3, '0')}`);
      mkdirSync(dir);
      const files = inputs.files.slice(start, start + chunkSize);
      for (const file of files) writeFileSync(join(dir, basename(file)), readFileSync(file));
      const chunkTensors = tensors.slice(start, start + chunkSize);
      chunks.push({ dir, images: files.length, batches: Object.fromEntries(sizes.map((b) => [b, batchesOf(chunkTensors, b)])) });
    }

    const wholeMs = [];
    const coldCallMs = [];
    const pairs = [];
    const runTotals = [];
    let counts;
    const options = { modelDir, declared: DECLARED };
    for (let r = 0; r < runs; r++) {
      const dataDir = join(scratch, `data-${r}`);
      const services = m.createServices(m.loadConfig(process.env, REPO_ROOT, { ...overrides, dataDir }), logger);
      const total = { pipelineMs: 0, insideMs: 0, pipelineCpuMs: 0, bareMs: Object.fromEntries(sizes.map((b) => [b, 0])), bareCpuMs: 0 };
      try {
        let s = nowMs();
        await services.predict([inputs.warmup], options, () => {});
        coldCallMs.push(nowMs() - s);
        const statuses = { decided: 0, rejected: 0, error: 0 };
        if (wholeFolder) {
          s = nowMs();
          await services.predict([inputs.images], options, (result) => statuses[result.status]++);
          wholeMs.push(nowMs() - s);
          counts = statuses;
        }
        for (const chunk of chunks) {
          const chunkStatuses = { decided: 0, rejected: 0, error: 0 };
          Object.assign(sessionRunClock, { on: true, ms: 0, calls: 0 });
          let c = cpuMs();
          s = nowMs();
          await services.predict([chunk.dir], options, (result) => chunkStatuses[result.status]++);
          const pipelineMs = nowMs() - s;
          const pipelineCpu = cpuMs() - c;
          sessionRunClock.on = false;
          if (!wholeFolder) for (const k of Object.keys(statuses)) statuses[k] += chunkStatuses[k];
          const bare = {};
          let bareCpu = 0;
          for (const b of sizes) {
            c = cpuMs();
            bare[b] = await timeBare(session, chunk.batches[b]);
            if (b === batchSize) bareCpu = cpuMs() - c;
          }
          pairs.push({ images: chunk.images, pipelineMs, insideMs: sessionRunClock.ms, pipelineCpuMs: pipelineCpu, bareMs: bare, bareCpuMs: bareCpu });
          total.pipelineMs += pipelineMs;
          total.insideMs += sessionRunClock.ms;
          total.pipelineCpuMs += pipelineCpu;
          total.bareCpuMs += bareCpu;
          for (const b of sizes) total.bareMs[b] += bare[b];
        }
        if (!wholeFolder) counts = statuses;
        runTotals.push(total);
        log(
          `  run ${r + 1}/${runs}: ${wholeFolder ? `whole folder ${round(wholeMs.at(-1))} ms; ` : ''}in ${chunks.length} chunk pairs: pipeline ${round(total.pipelineMs)} ms, ` +
            `bare ${sizes.map((b) => `batch ${b} ${round(total.bareMs[b])} ms`).join(', ')} (${n} images; ${statuses.decided} decided, ${statuses.rejected} rejected, ${statuses.error} errors)`,
        );
      } finally {
        await services.close();
        removeDir(dataDir);
      }
    }

    const breakdowns = [];
    for (let r = 0; r < (breakdown ? (quick ? 1 : 2) : 0); r++)
      breakdowns.push(await breakdownPass(m, { files: inputs.files, bundle, session, batchSize, scratch }));
    await session.close();
    const breakdownPerImageMs =
      breakdowns.length === 0 ? null : Object.fromEntries(Object.keys(breakdowns[0]).map((k) => [k, round(median(breakdowns.map((b) => b[k])) / n)]));

    const perImage = (values) => median(values) / n;
    const chunkedPerImage = perImage(runTotals.map((t) => t.pipelineMs));
    const wholePerImage = wholeFolder ? perImage(wholeMs) : null;
    const insidePerImage = perImage(runTotals.map((t) => t.insideMs));
    const barePerImage = Object.fromEntries(sizes.map((b) => [b, perImage(runTotals.map((t) => t.bareMs[b]))]));
    const bare = barePerImage[batchSize];
    const pairOverheadMs = pairs.map((p) => (p.pipelineMs - p.bareMs[batchSize]) / p.images);
    const pairOverheadPercent = pairs.map((p) => ((p.pipelineMs - p.bareMs[batchSize]) / p.bareMs[batchSize]) * 100);
    const pairInsidePercent = pairs.map((p) => ((p.insideMs - p.bareMs[batchSize]) / p.bareMs[batchSize]) * 100);
    const pairCpuOverheadPercent = pairs.map((p) => ((p.pipelineCpuMs - p.bareCpuMs) / p.bareCpuMs) * 100);
    const stagesSum = breakdownPerImageMs === null ? null : Object.values(breakdownPerImageMs).reduce((a, b) => a + b, 0);
    const pipelineHeadline = wholePerImage ?? chunkedPerImage;

    return {
      benchmark: `predict-${label}`,
      model: {
        id: bundle.identity.id,
        version: bundle.identity.version,
        dir: modelDir.startsWith(REPO_ROOT) ? modelDir.slice(REPO_ROOT.length + 1) : modelDir,
        inputShape: bundle.manifest.input.shape,
      },
      method: {
        images: `${n} PneumoniaMNIST test images (${inputs.width}×${inputs.height} grey PNG, written untimed) of ${inputs.splitSize}`,
        pipeline:
          `createServices(config, silent logger).predict(paths, { modelDir, declared: CR/CHEST/PA }) in a warm process; per run a fresh data dir and services, ` +
          `a ${WARMUP_IMAGES}-image call first (cold call: model load, signing key and secret creation), ` +
          `${wholeFolder ? 'then one call on the whole folder (headline), ' : ''}then the same images as ${chunks.length} consecutive calls of ≤ ${chunkSize} images (chunked); median of ${runs} runs`,
        bare: `OnnxModelRunner (executionProvider ${baseConfig.executionProvider}, intraOpThreads ${baseConfig.intraOpThreads}${baseConfig.intraOpThreads === 0 ? ' = one per core' : ''}) run() on the very tensors the pipeline's preprocessing makes, in batches of ${batchSize} (and ${sizes.filter((b) => b !== batchSize).join(', ') || 'no other size'}), batches assembled untimed, each chunk right after its pipeline call; per run the chunks are summed; median of ${runs} runs`,
        overhead: `per chunk pair: (pipeline − bare at batch ${batchSize}) / images, and the same as % of bare; headline = median over all ${pairs.length} pairs; fromMedians = the same from the medians of the run totals; cpu = the same with process CPU time (all threads) instead of wall time`,
        overheadSplit:
          'InferenceSession.run is wrapped in this process: insideModel = wall time in run() during the pipeline calls (onnxruntime-node runs it on the JS thread); modelSlowdown = insideModel − bare; outsideModel = pipeline − insideModel',
        breakdown: `each stage timed on its own over the same images with the project's functions (fs read, SharpRasterReader, SHA-256 + HMAC study key, preprocessFrame, computeImageFeatures, gateImage, batch assembly, session.run, SqliteAuditLog.append to a fresh log); median of ${breakdowns.length} pass(es); 'unaccounted' = chunked pipeline − sum of stages`,
      },
      images: n,
      batchSize,
      intraOpThreads: baseConfig.intraOpThreads,
      counts,
      pipeline: {
        perImageMs: round(pipelineHeadline),
        imagesPerSecond: round(1000 / pipelineHeadline),
        wholeFolderMs: wholeFolder ? summarize(wholeMs) : null,
        chunkedMs: summarize(runTotals.map((t) => t.pipelineMs)),
        chunkedPerImageMs: round(chunkedPerImage),
        cpuPerImageMs: round(perImage(runTotals.map((t) => t.pipelineCpuMs))),
        coldCallMs: summarize(coldCallMs),
      },
      bare: Object.fromEntries(
        sizes.map((b) => [
          `batch${b}`,
          {
            totalMs: summarize(runTotals.map((t) => t.bareMs[b])),
            perImageMs: round(barePerImage[b]),
            imagesPerSecond: round(1000 / barePerImage[b]),
            ...(b === batchSize ? { cpuPerImageMs: round(perImage(runTotals.map((t) => t.bareCpuMs))) } : {}),
          },
        ]),
      ),
      overhead: {
        perImageMs: round(median(pairOverheadMs)),
        percentOfModel: round(median(pairOverheadPercent)),
        percentOfModelQuartiles: [round(quantile(pairOverheadPercent, 0.25)), round(quantile(pairOverheadPercent, 0.75))],
        pairs: pairs.length,
        fromMedians: { perImageMs: round(chunkedPerImage - bare), percentOfModel: round(((chunkedPerImage - bare) / bare) * 100) },
        cpuPercentOfModel: round(median(pairCpuOverheadPercent)),
        pipelineOverBare: ratio(chunkedPerImage, bare),
        insideModelPerImageMs: round(insidePerImage),
        modelSlowdownPercent: round(median(pairInsidePercent)),
        modelSlowdownPerImageMs: round(median(pairs.map((p) => (p.insideMs - p.bareMs[batchSize]) / p.images))),
        outsideModelPerImageMs: round(median(pairs.map((p) => (p.pipelineMs - p.insideMs) / p.images))),
        outsideModelPercentOfModel: round(median(pairs.map((p) => ((p.pipelineMs - p.insideMs) / p.bareMs[batchSize]) * 100))),
      },
      breakdownPerImageMs:
        breakdownPerImageMs === null ? null : { ...breakdownPerImageMs, sumOfStages: round(stagesSum), unaccounted: round(chunkedPerImage - stagesSum) },
      ...(sizes.length > 1
        ? { batching: Object.fromEntries(sizes.filter((b) => b !== batchSize).map((b) => [`batch${b}OverBatch${batchSize}`, ratio(barePerImage[b], bare)])) }
        : {}),
    };
  } finally {
    removeDir(scratch);
  }
}
