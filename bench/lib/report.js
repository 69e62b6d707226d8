/** The table `npm run bench` prints: medians and ratios, from the summary it writes. */

function cell(value, digits) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return '–';
  if (Number.isInteger(value) && digits === undefined) return String(value);
  if (digits !== undefined) return value.toFixed(digits);
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 1 ? value.toFixed(2) : value.toFixed(3);
}

/** A plain-text table; columns whose header starts with a space are left-aligned. */
export function formatTable(headers, rows) {
  const text = rows.map((row) => row.map((v) => (typeof v === 'string' ? v : cell(v))));
  const widths = headers.map((h, i) => Math.max(h.trim().length, ...text.map((r) => r[i].length)));
  const left = headers.map((h) => h.startsWith(' '));
  const line = (values) => values.map((v, i) => (left[i] ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(headers.map((h) => h.trim())), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

const x = (r) => (r === null || r === undefined ? '–' : `${cell(r)}×`);

function decodeTables(d) {
  const out = [];
  out.push('1a. Decode, per frame, start-up excluded — Vigil warm (parse + decodeFrame) vs native tool minus its start-up on a tiny input');
  out.push('    ratio = peer / Vigil (> 1: Vigil faster); "noise" = the file took no longer than the tiny input in ≥ 1/4 of the paired runs');
  out.push(
    formatTable(
      [' file', ' syntax', 'frames', 'size', 'Vigil ms/fr', ' peer', 'peer ms/fr', 'ratio', 'opj self ms', 'ratio'],
      d.files.map((f) => {
        const se = f.comparison.startupExcluded;
        const sr = f.comparison.selfReported;
        return [
          f.file.replace(/\.dcm$/, ''),
          f.syntax,
          f.frames,
          `${f.columns}x${f.rows}${f.samplesPerPixel === 3 ? 'x3' : ''}`,
          f.vigilWarm.parseAndDecodePerFrameMs,
          f.peer.tool ?? 'no peer',
          se?.peerNetPerFrameMs ?? null,
          se === null ? '–' : se.belowNoise ? 'noise' : x(se.ratio),
          sr?.peerDecodeMs ?? null,
          sr === undefined ? '' : x(sr.ratio),
        ];
      }),
    ),
  );
  out.push('');
  out.push('1b. Decode, per file as a user runs it — one process per file, wall clock, median');
  out.push('    (its decode) = decodeFrame time inside one fresh decode-one process: WASM compile and cold code included');
  out.push(
    formatTable(
      [' file', ' syntax', 'decode-one ms', '(its decode)', 'predict CLI ms', ' peer', 'peer ms', 'peer/decode-one', 'peer/predict'],
      d.files.map((f) => [
        f.file.replace(/\.dcm$/, ''),
        f.syntax,
        f.vigilPerFile.decodeOne.median,
        f.vigilPerFile.freshProcess?.decodeMs ?? null,
        f.vigilPerFile.predictCli.median,
        f.peer.tool ?? 'no peer',
        f.peer.perFile?.median ?? null,
        x(f.comparison.perFile?.ratioVsDecodeOne),
        x(f.comparison.perFile?.ratioVsPredictCli),
      ]),
    ),
  );
  out.push('');
  out.push('1c. Decode by syntax family — geometric mean of the per-file ratios (peer / Vigil)');
  out.push(
    formatTable(
      [' family', 'files', 'frames', ' peer', 'start-up excl.', '(files w/ ratio)', 'per file', 'Vigil warm ms', 'peer net ms'],
      Object.entries(d.bySyntaxFamily).map(([name, f]) => [
        name,
        f.files,
        f.frames,
        f.peer,
        x(f.startupExcludedRatioGeomean),
        f.startupExcludedRatiosMeasured,
        x(f.perFileRatioGeomean),
        f.vigilWarmTotalMs,
        f.peer === 'no peer' ? null : f.peerNetTotalMs,
      ]),
    ),
  );
  const t = d.totals;
  out.push(
    `    all ${t.filesCompared} files with a peer (${t.framesCompared} frames): Vigil warm ${cell(t.vigilWarmMs)} ms vs peer net ${cell(t.peerNetMs)} ms (${x(t.startupExcludedRatio)}); ` +
      `per file: decode-one ${cell(t.vigilDecodeOneMs)} ms, predict CLI ${cell(t.vigilPredictCliMs)} ms, peer ${cell(t.peerPerFileMs)} ms (${x(t.perFileRatioVsDecodeOne)} / ${x(t.perFileRatioVsPredictCli)})`,
  );
  const s = d.peerStartupMs;
  out.push(
    `    start-up (median ms): ${Object.entries(s)
      .map(([k, v]) => `${k} ${cell(v?.median)}`)
      .join(', ')}; node decode-one ${cell(d.vigilStartupMs.decodeOne.median)}, vigil predict ${cell(d.vigilStartupMs.predictCli.median)}`,
  );
  return out.join('\n');
}

function predictRows(prefix, p) {
  const rows = [];
  if (p.pipeline.wholeFolderMs !== null)
    rows.push([`${prefix}pipeline, whole folder`, p.pipeline.wholeFolderMs.median / p.images, 1000 / (p.pipeline.wholeFolderMs.median / p.images), null]);
  rows.push([`${prefix}pipeline, chunked (paired)`, p.pipeline.chunkedPerImageMs, 1000 / p.pipeline.chunkedPerImageMs, p.pipeline.cpuPerImageMs]);
  rows.push([`${prefix}  of which inside session.run`, p.overhead.insideModelPerImageMs, null, null]);
  for (const [k, v] of Object.entries(p.bare))
    rows.push([`${prefix}bare session.run, ${k.replace('batch', 'batch ')}`, v.perImageMs, v.imagesPerSecond, v.cpuPerImageMs ?? null]);
  return rows;
}

function predictTable(title, p) {
  const out = [title];
  const rows = predictRows('', p);
  for (const [name, variant] of Object.entries(p.variants ?? {})) rows.push(...predictRows(`${name} (${variant.images} img): `, variant));
  out.push(formatTable([' path', 'ms/image', 'images/s', 'CPU ms/image'], rows));
  const o = p.overhead;
  const [q1, q3] = o.percentOfModelQuartiles;
  out.push(
    `    ${p.images} images, batch ${p.batchSize}, intraOpThreads ${p.intraOpThreads}, ${p.counts.decided} decided / ${p.counts.rejected} rejected / ${p.counts.error} errors; cold first call ${cell(p.pipeline.coldCallMs.median)} ms`,
    `    OVERHEAD ${cell(o.perImageMs)} ms/image = ${cell(o.percentOfModel)}% of the model's own cost (median of ${o.pairs} chunk pairs, IQR ${cell(q1)}–${cell(q3)}%; ` +
      `from medians ${cell(o.fromMedians.percentOfModel)}%; in CPU time ${cell(o.cpuPercentOfModel)}%)`,
    `    split: model slower inside the pipeline ${cell(o.modelSlowdownPerImageMs)} ms (${cell(o.modelSlowdownPercent)}%) + work outside the model ${cell(o.outsideModelPerImageMs)} ms (${cell(o.outsideModelPercentOfModel)}% of model)`,
  );
  for (const [name, v] of Object.entries(p.variants ?? {})) {
    const [v1, v3] = v.overhead.percentOfModelQuartiles;
    out.push(
      `    ${name}: overhead ${cell(v.overhead.perImageMs)} ms/image = ${cell(v.overhead.percentOfModel)}% of its model cost ${cell(v.bare[`batch${v.batchSize}`].perImageMs)} ms (IQR ${cell(v1)}–${cell(v3)}%, CPU ${cell(v.overhead.cpuPercentOfModel)}%); ` +
        `model slowdown ${cell(v.overhead.modelSlowdownPerImageMs)} ms, outside the model ${cell(v.overhead.outsideModelPerImageMs)} ms`,
    );
  }
  if (p.batching !== undefined)
    out.push(
      `    bare batching: ${Object.entries(p.batching)
        .map(([k, v]) => `${k} = ${x(v)}`)
        .join(', ')} (ms/image ratio)`,
    );
  const b = p.breakdownPerImageMs;
  if (b !== null && b !== undefined) {
    out.push(
      `    stages timed one by one (ms/image): ${Object.entries(b)
        .filter(([k]) => k !== 'sumOfStages')
        .map(([k, v]) => `${k} ${cell(v)}`)
        .join(', ')} (sum ${cell(b.sumOfStages)})`,
    );
  }
  return out.join('\n');
}

function auditTable(a) {
  return [
    `5. Audit appends, durable (WAL + synchronous=FULL, signed tree head per append), ${a.appendsPerRun} appends × ${a.runs} runs`,
    formatTable(
      [' measure', 'median', ' by run / detail'],
      [
        ['appends/s', a.appendsPerSecond, a.appendsPerSecondByRun.map((v) => cell(v)).join(', ')],
        ['ms/append', a.perAppendMs.p50, `p95 ${cell(a.perAppendMs.p95)}, p99 ${cell(a.perAppendMs.p99)}, max ${cell(a.perAppendMs.max)}`],
        [
          'fdatasync floor ms',
          a.fsyncFloorMs.median,
          `by run ${a.fsyncFloorMsByRun.map((v) => cell(v)).join(', ')}; p25 ${cell(a.fsyncFloorMs.p25)}, p75 ${cell(a.fsyncFloorMs.p75)} (4 KiB write + fdatasync, same disk, before each run)`,
        ],
        [`verify() ms (${a.appendsPerRun} entries)`, a.verifyMs.median, `${cell(a.verifyEntriesPerSecond)} entries/s, ok=${a.verified}`],
      ],
    ),
  ].join('\n');
}

function ingestTable(i) {
  const out = [
    `8. C-STORE ingest, Vigil vs Orthanc ${i.versions.orthanc.version?.split(' ').at(-1) ?? ''} (SQLite), storescu ${i.versions.dcmtk.storescu}; ${i.sendSet.files.length} samples per pass, median of ${i.reps} runs (goal: ≥ 3× Orthanc)`,
    formatTable(
      [' setting', 'instances', 'Vigil /s', 'Orthanc /s', 'ratio', 'Vigil CPU ms/inst', 'Orthanc CPU ms/inst', ' load avg (1 min) by run'],
      i.settings.map((x) => [
        x.setting,
        x.instancesPerRun,
        x.vigilPerSecond,
        x.orthancPerSecond,
        x.ratio === null ? '–' : `${cell(x.ratio)}×`,
        x.cpuMsPerInstance.vigil,
        x.cpuMsPerInstance.orthanc,
        x.runs.map((r) => `${cell(r.vigil.loadAverage1m.before)}/${cell(r.orthanc.loadAverage1m.before)}`).join(', '),
      ]),
    ),
    `    last instance of a study → its case (VIGIL_STUDY_QUIET_MS=${i.latency.studyQuietMs}, ${i.latency.studies} studies): p50 ${cell(i.latency.observedMs.p50)} ms, p95 ${cell(i.latency.observedMs.p95)} ms; ` +
      `beyond the quiet period p50 ${cell(i.latency.beyondQuietMs.p50)} ms, p95 ${cell(i.latency.beyondQuietMs.p95)} ms`,
  ];
  const left = Object.entries(i.sendSet.excluded);
  if (left.length > 0) out.push(`    left out of the send set: ${left.map(([name, why]) => `${name} (${why})`).join('; ')}`);
  return out.join('\n');
}

function loadNote(result) {
  const l = result.machineLoad;
  if (l === undefined || l.othersCpuPercent === null) return '';
  return `    (while this ran, other processes used ${cell(l.othersCpuPercent)}% of the machine's CPU time, the benchmark ${cell(l.benchCpuPercent)}%; load average ${cell(l.loadAverage1m.before)} → ${cell(l.loadAverage1m.after)})`;
}

export function formatReport(summary) {
  const m = summary.machine;
  const v = summary.versions;
  const out = [
    `Vigil benchmark ${summary.date} — ${m.cpuModel} ×${m.cpus}, ${m.memoryGiB} GiB, ${m.os}; Node ${v.node}; DCMTK ${v.dcmtk?.version ?? '–'}, OpenJPEG ${v.openjpeg?.version ?? '–'}, onnxruntime-node ${v.npm['onnxruntime-node']}, dcmjs-codecs ${v.npm['dcmjs-codecs']}; scratch on ${m.scratchFileSystem}`,
    '',
  ];
  const s = summary.results;
  for (const [name, error] of Object.entries(summary.skipped)) out.push(`(${name}: skipped — ${error})`);
  if (Object.keys(summary.skipped).length > 0) out.push('');
  const resnetTitle = (r) => `4. ResNet-18 overhead, ${r.model.id} (input ${r.model.inputShape.join('×')}; goal: overhead < 10% of model cost)`;
  if (s.decode) out.push(decodeTables(s.decode), loadNote(s.decode), '');
  if (s.predict)
    out.push(predictTable(`3. Full predict path, ${s.predict.model.id} (input ${s.predict.model.inputShape.join('×')})`, s.predict), loadNote(s.predict), '');
  if (s.resnet18) out.push(predictTable(resnetTitle(s.resnet18), s.resnet18), loadNote(s.resnet18), '');
  if (s.audit) out.push(auditTable(s.audit), loadNote(s.audit), '');
  if (summary.headline.deid) {
    out.push('6. De-identification throughput (Vigil files/s ÷ peer files/s; > 1: Vigil faster; goal ≥ 5, per file as a user runs it)');
    for (const [peer, r] of Object.entries(summary.headline.deid.ratios ?? {})) {
      const views = typeof r === 'number' ? [['', r]] : Object.entries(r);
      out.push(`  vs ${peer.padEnd(10)} ${views.map(([view, ratio]) => `${view} ${cell(ratio)}×`).join(', ')}`);
    }
    for (const [k, why] of Object.entries(summary.headline.deid.skipped ?? {})) out.push(`  ${k}: skipped — ${why}`);
    out.push('');
  }
  if (summary.headline.evaluate) {
    const e = summary.headline.evaluate;
    out.push(
      `7. AUROC + ${e.workload.replicates} stratified bootstrap replicates, ${e.workload.predictions} predictions, ${e.workload.strata} strata (goal: ≥ 10× scikit-learn per replicate)`,
      `  Vigil ${cell(e.vigilPerReplicateMs)} ms/replicate, scikit-learn ${e.peerPerReplicateMs === null ? 'not available' : `${cell(typeof e.peerPerReplicateMs === 'number' ? e.peerPerReplicateMs : e.peerPerReplicateMs.median)} ms/replicate`}; ratio ${e.ratioPerReplicate === null ? '–' : `${cell(e.ratioPerReplicate)}×`}; AUROC agrees: ${String(e.aurocAgrees)}; peak RSS Vigil ${cell(e.maxRssMB.vigil)} MB, Python ${cell(e.maxRssMB.peer)} MB`,
      '',
    );
  }
  if (s.ingest) out.push(ingestTable(s.ingest), loadNote(s.ingest), '');
  if (summary.headline.monitors) {
    const m = summary.headline.monitors;
    out.push(
      `9. Monitors: ${m.workload.detectors} CUSUMs of one deployment over ${m.workload.cases} stored cases (goal: < 2 s; per-case update in µs)`,
      `  recompute: Vigil ${cell(m.vigilRecomputeMs)} ms, numpy/scipy ${cell(m.peerRecomputeMs)} ms (ratio ${cell(m.ratioRecompute)}×); CPU time Vigil ${cell(m.vigilRecomputeCpuMs)} ms, numpy/scipy ${cell(m.peerRecomputeCpuMs)} ms (ratio ${cell(m.ratioRecomputeCpu)}×); per case: Vigil ${cell(m.vigilIncrementalUsPerCase)} µs, Python ${cell(m.peerIncrementalUsPerCase)} µs (ratio ${cell(m.ratioIncremental)}×); alarms agree: ${String(m.alarmsAgree)}; load ${cell(m.machineLoad?.loadAverage1m?.before)}`,
      '',
    );
  }
  out.push(`Results: bench/results/*.json (summary.json holds every figure). Total ${cell(summary.durationS)} s.`);
  return out.join('\n');
}
