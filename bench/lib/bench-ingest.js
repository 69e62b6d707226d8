/**
 * C-STORE ingest throughput, Vigil (`vigil serve`) beside Orthanc from Debian (SQLite index, storage on the
 * same disk), same files, same machine, same sender (DCMTK storescu with the same arguments), in one run;
 * and the time from the last instance of a study to its case.
 *
 * Send set: every sample in ../shared/data/dicom-samples that storescu can send as it is and both servers
 * accept (probed once, untimed; what is left out is reported with the reason), copied to a scratch folder
 * `copies` times and given new SOP Instance UIDs with `dcmodify -gin`, so that no instance repeats. The
 * sender proposes exactly each file's own SOP class and transfer syntax (a storescu config file), so
 * nothing is transcoded on either side.
 *
 * Settings: 1 association (one storescu for all files) and 8 parallel associations (8 storescu, the files
 * dealt round-robin), each with storescu's defaults and with TCP_NODELAY=1 in its environment (DCMTK then
 * disables Nagle's algorithm; ../shared/notes/dicom-in-node.md). Per setting the instance count is chosen
 * from Vigil's warm-up rate so that Vigil's run lasts at least `targetSeconds`; both servers get the same
 * count. Each run starts a fresh server (empty data folder), sends a warm-up pass (untimed), then the
 * timed set: wall time from the first storescu's start to the last one's exit. Afterwards the server must
 * hold every instance sent (Orthanc: /statistics; Vigil: the .dcm files under objects/ and the instance
 * counts of /api/studies), or the benchmark fails. `reps` repetitions, alternating which server goes
 * first; medians and the ratio Vigil/Orthanc of the medians are reported.
 *
 * Latency: a fresh Vigil with VIGIL_STUDY_QUIET_MS = `quietMs` gets `latencyStudies` studies of 2 chest
 * radiographs (the samples' JPEG 2000 CR film, made 3 years old with dcmodify so that the paediatric demo
 * model decides it: decode, gate, inference and decision all run), one after another (one storescu each, TCP_NODELAY=1); for each, the time from storescu's exit
 * (the last instance acknowledged) to its case appearing in GET /api/studies/:studyKey (polled every
 * 25 ms), and the same from the server's own timestamps (study lastReceivedAt → case createdAt).
 *
 * Contract (for bench/lib/run-section.js): `runIngestBench({ quick?, log?, install?, reps?, targetSeconds? })`
 * → a JSON-able result; needs dist/ built. Installs Debian `dcmtk` and `orthanc` with apt-get when missing
 * and `install` is not false (root only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { hasCommand } from './peers.js';
import { DICOM_SAMPLES_DIR, REPO_ROOT, makeScratchDir, removeDir } from './paths.js';
import { median, nowMs, quantile, ratio, round } from './stats.js';

const ORTHANC_AET = 'ORTHANC';
const VIGIL_AET = 'VIGIL';
const LOOPBACK = '127.0.0.1';
/** The transfer syntax DCMTK 3.6.7 does not know: storescu cannot send it (nor Orthanc 1.10 receive it). */
const SETTINGS = [
  { associations: 1, nodelay: false },
  { associations: 1, nodelay: true },
  { associations: 8, nodelay: false },
  { associations: 8, nodelay: true },
];

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const load1 = () => round(loadavg()[0]);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { ok: result.status === 0 && result.error === undefined, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function findOrthanc() {
  for (const candidate of ['/usr/sbin/Orthanc', '/usr/bin/Orthanc']) if (existsSync(candidate)) return candidate;
  return hasCommand('Orthanc') ? 'Orthanc' : undefined;
}

function ensureTools({ install, log }) {
  const missing = [];
  if (!['storescu', 'echoscu', 'dcmodify', 'dcmdump'].every(hasCommand)) missing.push('dcmtk');
  if (findOrthanc() === undefined) missing.push('orthanc');
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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** (SOP Class UID, Transfer Syntax UID) of a file, read by dcmdump (UIDs as numbers). */
function sopClassAndSyntax(path) {
  const r = run('dcmdump', ['-s', '-Un', '+P', '0008,0016', '+P', '0002,0010', path]);
  const values = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\((0008,0016|0002,0010)\) UI \[([0-9.]+)\]/.exec(line.trim());
    if (m) values[m[1]] = m[2];
  }
  return { sopClassUid: values['0008,0016'], transferSyntaxUid: values['0002,0010'] };
}

/**
 * A storescu configuration (DCMTK asccfg format) proposing one presentation context per (SOP class,
 * transfer syntax) pair of the send set, so that every file travels in its own syntax on both servers.
 */
function writeSenderConfig(path, files) {
  const syntaxes = [...new Set(files.map((f) => f.transferSyntaxUid))];
  const pairs = [...new Set(files.map((f) => `${f.sopClassUid}\\TS${syntaxes.indexOf(f.transferSyntaxUid) + 1}`))];
  const lines = ['[[TransferSyntaxes]]'];
  syntaxes.forEach((uid, i) => lines.push(`[TS${i + 1}]`, `TransferSyntax1 = ${uid}`));
  lines.push('', '[[PresentationContexts]]', '[Bench]');
  pairs.forEach((pair, i) => lines.push(`PresentationContext${i + 1} = ${pair}`));
  lines.push('', '[[Profiles]]', '[Bench]', 'PresentationContexts = Bench', '');
  writeFileSync(path, lines.join('\n'));
  return { profile: 'Bench', presentationContexts: pairs.length };
}

/** Sends `files` over `associations` parallel storescu processes; wall time from the first start to the last exit. */
async function send({ files, associations, nodelay, port, aet, config }) {
  const env = { ...process.env };
  delete env.TCP_NODELAY;
  if (nodelay) env.TCP_NODELAY = '1';
  const lists = Array.from({ length: associations }, () => []);
  files.forEach((f, i) => lists[i % associations].push(f));
  const started = nowMs();
  const outcomes = await Promise.all(
    lists
      .filter((list) => list.length > 0)
      .map(
        (list) =>
          new Promise((resolve) => {
            const child = spawn('storescu', ['-xf', config.file, config.profile, '-aec', aet, LOOPBACK, String(port), ...list], {
              env,
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            child.stderr.on('data', (chunk) => {
              if (stderr.length < 1_000_000) stderr += chunk;
            });
            child.on('close', (code) => resolve({ code, errors: stderr.split('\n').filter((l) => l.startsWith('E:')) }));
          }),
      ),
  );
  const ms = nowMs() - started;
  const errors = outcomes.flatMap((o) => o.errors);
  return { ms, exitCodes: outcomes.map((o) => o.code), errors };
}

/** User + system CPU time of one process (all its threads), from /proc; NaN where there is no /proc. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

function countFiles(dir, suffix) {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true }).filter((p) => String(p).endsWith(suffix)).length;
}

async function waitFor(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function stopChild(child, timeoutMs = 20_000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A fresh `vigil serve` (built dist/) in a data folder of its own; resolves once /api/health answers. */
async function startVigil(dataDir, extraEnv = {}) {
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_HTTP_HOST: LOOPBACK,
    VIGIL_HTTP_PORT: String(httpPort),
    VIGIL_DICOM_HOST: LOOPBACK,
    VIGIL_DICOM_PORT: String(dicomPort),
    VIGIL_DICOM_AE_TITLE: VIGIL_AET,
    VIGIL_LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vigil.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => {
    if (stderr.length < 100_000) stderr += c;
  });
  const base = `http://${LOOPBACK}:${httpPort}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error('exited');
        return (await fetch(`${base}/api/health`)).ok;
      },
      60_000,
      'vigil serve to answer /api/health',
    );
  } catch (error) {
    await stopChild(child);
    throw new Error(`vigil serve did not start (${error.message}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const adminToken = await waitFor(async () => /^\s+(vgl_\S+)\s*$/m.exec(stdout)?.[1], 10_000, 'the bootstrap token on stdout');
  // The administrator manages accounts but reads no studies (least privilege): an ml-engineer account does.
  const created = await fetch(`${base}/api/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', role: 'ml-engineer' }),
  });
  if (!created.ok) {
    await stopChild(child);
    throw new Error(`POST /api/users: HTTP ${created.status}`);
  }
  const { token } = await created.json();
  const api = async (path) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return response.json();
  };
  return {
    name: 'vigil',
    pid: child.pid,
    aet: VIGIL_AET,
    port: dicomPort,
    api,
    /** Instances held: .dcm files under objects/, cross-checked with the study registry over the API. */
    async stored() {
      const files = countFiles(join(dataDir, 'objects'), '.dcm');
      const { studies } = await api('/api/studies?limit=500');
      const recorded = studies.length < 500 ? studies.reduce((n, s) => n + s.instances, 0) : null;
      return { count: files, detail: { objectFiles: files, recordedInStudies: recorded, studies: studies.length } };
    },
    stop: () => stopChild(child),
    stderr: () => stderr,
  };
}

/** A fresh Orthanc (SQLite index and storage in `dir`, no plugins); resolves once it answers C-ECHO. */
async function startOrthanc(binary, dir) {
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    Name: 'vigil-bench',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    DicomAet: ORTHANC_AET,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    // Debian's /etc/orthanc/orthanc.json loads /usr/share/orthanc/plugins; none is needed to receive.
    Plugins: [],
    DicomCheckCalledAet: false,
  };
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(binary, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => {
    if (stderr.length < 100_000) stderr += c;
  });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error('exited');
        return run('echoscu', ['-aec', ORTHANC_AET, LOOPBACK, String(dicomPort)]).ok;
      },
      60_000,
      'Orthanc to answer C-ECHO',
    );
  } catch (error) {
    await stopChild(child);
    throw new Error(`Orthanc did not start (${error.message}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return {
    name: 'orthanc',
    pid: child.pid,
    aet: ORTHANC_AET,
    port: dicomPort,
    config,
    async stored() {
      const stats = await (await fetch(`http://${LOOPBACK}:${httpPort}/statistics`)).json();
      return { count: stats.CountInstances, detail: { countInstances: stats.CountInstances, storageFiles: countFiles(config.StorageDirectory, '') } };
    },
    stop: () => stopChild(child),
    stderr: () => stderr,
  };
}

/**
 * Every sample storescu can send as it is and both servers accept. Each is sent once to a fresh Vigil and
 * a fresh Orthanc (untimed); a file either refuses is left out, with what storescu said.
 */
async function chooseSendable({ scratch, orthanc, log }) {
  const candidates = readdirSync(DICOM_SAMPLES_DIR)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((name) => ({
      name,
      path: join(DICOM_SAMPLES_DIR, name),
      bytes: statSync(join(DICOM_SAMPLES_DIR, name)).size,
      ...sopClassAndSyntax(join(DICOM_SAMPLES_DIR, name)),
    }));
  const config = {
    file: join(scratch, 'storescu-probe.cfg'),
    ...writeSenderConfig(
      join(scratch, 'storescu-probe.cfg'),
      candidates.filter((c) => c.sopClassUid && c.transferSyntaxUid),
    ),
  };
  const excluded = {};
  // Probed with copies given new SOP Instance UIDs: several samples are one image in several syntaxes.
  const probeDir = join(scratch, 'probe');
  mkdirSync(probeDir, { recursive: true });
  const probeFiles = candidates.map((c) => {
    const path = join(probeDir, c.name);
    copyFileSync(c.path, path);
    chmodSync(path, 0o600);
    const r = run('dcmodify', ['-nb', '-gin', path]);
    if (!r.ok) excluded[c.name] = `DCMTK cannot rewrite it (dcmodify -gin: ${r.stderr.split('\n').find((l) => l.startsWith('E:')) ?? `exit ${r.status}`})`;
    return path;
  });
  const servers = [await startVigil(join(scratch, 'probe-vigil')), await startOrthanc(orthanc, join(scratch, 'probe-orthanc'))];
  try {
    for (const [i, c] of candidates.entries()) {
      if (excluded[c.name] !== undefined) continue;
      if (!c.sopClassUid || !c.transferSyntaxUid) {
        excluded[c.name] = 'dcmdump cannot read its SOP Class UID or Transfer Syntax UID';
        continue;
      }
      for (const server of servers) {
        const before = (await server.stored()).count;
        const r = await send({ files: [probeFiles[i]], associations: 1, nodelay: true, port: server.port, aet: server.aet, config });
        const after = (await server.stored()).count;
        if (after !== before + 1) {
          excluded[c.name] ??=
            `not stored by ${server.name} (transfer syntax ${c.transferSyntaxUid}): ${r.errors.slice(-1)[0] ?? `storescu exit ${r.exitCodes[0]}`}`;
        }
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const sendable = candidates.filter((c) => excluded[c.name] === undefined);
  log(`  send set: ${sendable.length} of ${candidates.length} samples; left out: ${Object.keys(excluded).join(', ') || 'none'}`);
  return { sendable, excluded };
}

/** `copies` copies of each sendable sample with new SOP Instance UIDs (dcmodify -gin), in round-robin order. */
function prepareSet(dir, sendable, copies) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (let c = 0; c < copies; c++) {
    for (const s of sendable) {
      const path = join(dir, `${String(c).padStart(4, '0')}-${s.name}`);
      copyFileSync(s.path, path);
      chmodSync(path, 0o600);
      files.push(path);
    }
  }
  for (let i = 0; i < files.length; i += 500) {
    const r = run('dcmodify', ['-nb', '-gin', ...files.slice(i, i + 500)]);
    if (!r.ok) throw new Error(`dcmodify -gin failed: ${r.stderr.split('\n').filter((l) => l.startsWith('E:'))[0] ?? r.status}`);
  }
  return files;
}

function settingName({ associations, nodelay }) {
  return `${associations} association${associations > 1 ? 's' : ''}, ${nodelay ? 'TCP_NODELAY=1' : 'storescu defaults'}`;
}

/** One timed run on a fresh server: warm-up pass, timed send, verification. */
async function timedRun({ start, scratch, warmup, files, setting, config, log }) {
  const server = await start(scratch);
  try {
    const warm = await send({ files: warmup, ...setting, port: server.port, aet: server.aet, config });
    const afterWarmup = (await server.stored()).count;
    if (afterWarmup !== warmup.length) throw new Error(`${server.name} stored ${afterWarmup} of ${warmup.length} warm-up instances`);
    const loadBefore = load1();
    const cpuBefore = processCpuMs(server.pid);
    const sent = await send({ files, ...setting, port: server.port, aet: server.aet, config });
    const cpuMs = processCpuMs(server.pid) - cpuBefore;
    const loadAfter = load1();
    const stored = await server.stored();
    const expected = warmup.length + files.length;
    if (
      stored.count !== expected ||
      (stored.detail.recordedInStudies !== undefined && stored.detail.recordedInStudies !== null && stored.detail.recordedInStudies !== expected)
    ) {
      throw new Error(
        `${server.name} LOST INSTANCES: holds ${JSON.stringify(stored.detail)} after ${expected} sent (${sent.errors.length} storescu errors, e.g. ${sent.errors[0] ?? 'none'})`,
      );
    }
    if (sent.errors.length > 0) throw new Error(`storescu reported ${sent.errors.length} errors sending to ${server.name}, e.g. ${sent.errors[0]}`);
    const perSecond = files.length / (sent.ms / 1000);
    log(
      `    ${server.name.padEnd(7)} ${files.length} instances in ${round(sent.ms / 1000)} s = ${round(perSecond)}/s, ${round(cpuMs / files.length)} ms CPU/instance (load ${loadBefore} → ${loadAfter})`,
    );
    return {
      server: server.name,
      instances: files.length,
      seconds: round(sent.ms / 1000),
      perSecond: round(perSecond),
      warmupPerSecond: round(warmup.length / (warm.ms / 1000)),
      cpuMsPerInstance: round(cpuMs / files.length),
      loadAverage1m: { before: loadBefore, after: loadAfter },
      stored: stored.detail,
    };
  } finally {
    await server.stop();
  }
}

/** The time from the last instance of a study to its case, on an idle Vigil. */
async function measureLatency({ scratch, studies, quietMs, log }) {
  const dir = join(scratch, 'latency-studies');
  mkdirSync(dir, { recursive: true });
  const config = { file: join(scratch, 'storescu-latency.cfg') };
  const film = join(DICOM_SAMPLES_DIR, 'cr_chest_pa_j2k_lossy.dcm');
  Object.assign(config, writeSenderConfig(config.file, [{ ...sopClassAndSyntax(film) }]));
  const server = await startVigil(join(scratch, 'latency-vigil'), { VIGIL_STUDY_QUIET_MS: String(quietMs) });
  const samples = [];
  try {
    for (let s = 0; s < studies; s++) {
      // 2 instances of one new study and series (explicit UIDs: dcmodify -gst would give each file its own),
      // of a 3-year-old (the demo model's intended use is 1-5 years; the film's own patient is 64).
      const uid = (n) => `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`) * 10n + BigInt(n)}`;
      const files = Array.from({ length: 2 }, (_, i) => join(dir, `${s}-${i}.dcm`));
      for (const f of files) {
        copyFileSync(film, f);
        chmodSync(f, 0o600);
      }
      const r = run('dcmodify', ['-nb', '-gin', '-m', `(0020,000d)=${uid(1)}`, '-m', `(0020,000e)=${uid(2)}`, '-m', '(0010,0030)=20010415', ...files]);
      if (!r.ok) throw new Error('dcmodify failed preparing a latency study');
      const known = new Set((await server.api('/api/studies?limit=500')).studies.map((x) => x.studyKey));
      const sent = await send({ files, associations: 1, nodelay: true, port: server.port, aet: server.aet, config });
      const acknowledged = nowMs();
      if (sent.errors.length > 0) throw new Error(`storescu: ${sent.errors[0]}`);
      let studyKey;
      let found;
      for (;;) {
        if (studyKey === undefined) studyKey = (await server.api('/api/studies?limit=500')).studies.find((x) => !known.has(x.studyKey))?.studyKey;
        if (studyKey !== undefined) {
          const study = await server.api(`/api/studies/${studyKey}`);
          if (study.cases.length > 0) {
            found = { at: nowMs(), study };
            break;
          }
        }
        if (nowMs() - acknowledged > quietMs + 120_000) throw new Error('no case within 2 minutes after the quiet period');
        await sleep(25);
      }
      const observedMs = found.at - acknowledged;
      const serverMs = Date.parse(found.study.cases[0].createdAt) - Date.parse(found.study.lastReceivedAt);
      if (found.study.instances !== files.length) throw new Error(`latency study holds ${found.study.instances} of ${files.length} instances`);
      // The path measured must be the whole one: decoded, gated, judged by the model and decided.
      if (!found.study.cases[0].results.every((r) => r.status === 'decided')) throw new Error('a latency study was not decided by the model');
      samples.push({ observedMs: round(observedMs), serverMs, beyondQuietMs: round(observedMs - quietMs) });
      log(`    study ${s + 1}/${studies}: case ${round(observedMs)} ms after the last acknowledgement (server: ${serverMs} ms; quiet period ${quietMs} ms)`);
    }
  } finally {
    await server.stop();
  }
  const pick = (key, q) =>
    round(
      quantile(
        samples.map((x) => x[key]),
        q,
      ),
    );
  return {
    method: `a fresh vigil serve with VIGIL_STUDY_QUIET_MS=${quietMs}; ${studies} studies of 4 CT instances (ct_small with new UIDs), sent one after another by one storescu each (TCP_NODELAY=1), each after the previous study's case appeared; observed = storescu exit → the case in GET /api/studies/:studyKey (polled every 25 ms); server = study lastReceivedAt → case createdAt`,
    studyQuietMs: quietMs,
    studies,
    observedMs: { p50: pick('observedMs', 0.5), p95: pick('observedMs', 0.95) },
    beyondQuietMs: { p50: pick('beyondQuietMs', 0.5), p95: pick('beyondQuietMs', 0.95) },
    serverMs: { p50: pick('serverMs', 0.5), p95: pick('serverMs', 0.95) },
    samples,
  };
}

function versions(orthanc) {
  const first = (r) => `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? null;
  const dpkg = (pkg) => {
    const r = run('dpkg-query', ['-W', '-f', '${Version}', pkg]);
    return r.ok ? r.stdout.trim() : null;
  };
  return {
    orthanc: { version: first(run(orthanc, ['--version'])), debianPackage: dpkg('orthanc') },
    dcmtk: { storescu: /v(\S+)/.exec(first(run('storescu', ['--version'])) ?? '')?.[1] ?? null, debianPackage: dpkg('dcmtk') },
    node: process.version,
  };
}

export async function runIngestBench({ quick = false, log = () => {}, install = true, reps, targetSeconds, latencyStudies, quietMs } = {}) {
  ensureTools({ install, log });
  const orthanc = findOrthanc();
  if (orthanc === undefined || !['storescu', 'echoscu', 'dcmodify', 'dcmdump'].every(hasCommand)) {
    throw new Error('needs Orthanc (Debian orthanc) and DCMTK (storescu, echoscu, dcmodify, dcmdump)');
  }
  const repetitions = reps ?? (quick ? 1 : 3);
  const target = targetSeconds ?? (quick ? 2 : 10);
  const maxCopies = quick ? 10 : 200;
  const loadAtStart = loadavg().map(round);
  const scratch = makeScratchDir('ingest');
  try {
    log('choosing the send set (each sample sent once to each server, untimed)…');
    const { sendable, excluded } = await chooseSendable({ scratch, orthanc, log });
    const config = { file: join(scratch, 'storescu.cfg'), ...writeSenderConfig(join(scratch, 'storescu.cfg'), sendable) };
    const warmup = prepareSet(join(scratch, 'warmup'), sendable, 1);
    log(`preparing up to ${maxCopies} copies of the send set (dcmodify -gin)…`);
    const all = prepareSet(join(scratch, 'set'), sendable, maxCopies);
    const setBytes = sendable.reduce((n, s) => n + s.bytes, 0);

    const settings = [];
    for (const setting of SETTINGS) {
      const name = settingName(setting);
      log(`${name}:`);
      let count;
      const runs = [];
      for (let rep = 0; rep < repetitions; rep++) {
        if (count === undefined) {
          // Sized from a calibration run on a fresh Vigil (two passes of the set), so Vigil's run lasts ≥ target.
          const calibrationDir = join(scratch, `calibrate-${setting.associations}-${setting.nodelay}`);
          const probe = await timedRun({
            start: (dir) => startVigil(join(dir, 'vigil')),
            scratch: calibrationDir,
            warmup,
            files: all.slice(0, 2 * sendable.length),
            setting,
            config,
            log: () => {},
          });
          removeDir(calibrationDir);
          const passes = Math.ceil((probe.perSecond * target * 1.3) / sendable.length);
          count = Math.min(maxCopies, Math.max(2, passes)) * sendable.length;
          log(`  ${count} instances per run (calibration: ${probe.perSecond}/s on Vigil)`);
        }
        const files = all.slice(0, count);
        const order = rep % 2 === 0 ? ['vigil', 'orthanc'] : ['orthanc', 'vigil'];
        const pair = {};
        for (const which of order) {
          const dir = join(scratch, `run-${setting.associations}-${setting.nodelay}-${rep}-${which}`);
          pair[which] = await timedRun({
            start: which === 'vigil' ? (d) => startVigil(join(d, 'vigil')) : (d) => startOrthanc(orthanc, join(d, 'orthanc')),
            scratch: dir,
            warmup,
            files,
            setting,
            config,
            log,
          });
          removeDir(dir);
        }
        runs.push({ rep, order, ...pair, ratio: ratio(pair.vigil.perSecond, pair.orthanc.perSecond) });
      }
      const vigil = round(median(runs.map((r) => r.vigil.perSecond)));
      const peer = round(median(runs.map((r) => r.orthanc.perSecond)));
      const vigilSeconds = round(median(runs.map((r) => r.vigil.seconds)));
      settings.push({
        setting: name,
        associations: setting.associations,
        tcpNodelay: setting.nodelay,
        instancesPerRun: count,
        vigilPerSecond: vigil,
        orthancPerSecond: peer,
        ratio: ratio(vigil, peer),
        ratioOfPairs: round(median(runs.map((r) => r.ratio))),
        cpuMsPerInstance: {
          vigil: round(median(runs.map((r) => r.vigil.cpuMsPerInstance))),
          orthanc: round(median(runs.map((r) => r.orthanc.cpuMsPerInstance))),
        },
        vigilSecondsMedian: vigilSeconds,
        belowTargetSeconds: vigilSeconds < target,
        runs,
      });
      log(`  median: Vigil ${vigil}/s, Orthanc ${peer}/s, ratio ${ratio(vigil, peer)}×`);
    }

    log('latency: last instance of a study → its case…');
    const latency = await measureLatency({ scratch, studies: latencyStudies ?? (quick ? 3 : 10), quietMs: quietMs ?? (quick ? 1000 : 2000), log });

    return {
      benchmark: 'ingest',
      method:
        'C-STORE over loopback with DCMTK storescu (-xf config: each file in its own SOP class and transfer syntax; the same arguments for both servers); ' +
        '1 association = one storescu for all files, 8 = eight storescu in parallel with the files dealt round-robin; with storescu defaults and with TCP_NODELAY=1 in its environment. ' +
        'Each run: a fresh server (empty data folder), one untimed warm-up pass of the send set, then the timed send (first storescu start → last storescu exit), then a check that the server holds every instance. ' +
        `Vigil: node bin/vigil.js serve with its defaults (de-identification at ingest with VIGIL_DEID_OPTIONS' default, durable write with fsync of file and folder, the instance recorded in its study in SQLite with synchronous=FULL before the C-STORE-RSP; VIGIL_STUDY_QUIET_MS default, so no study completes during a run). ` +
        'Orthanc: Debian package, SQLite index and storage folder in the scratch folder, no plugins, other settings default. ' +
        `Median of ${repetitions} runs per server and setting, alternating which server goes first; ratio = Vigil / Orthanc (> 1: Vigil faster).`,
      ratioMeaning: 'Vigil instances/s ÷ Orthanc instances/s; > 1 means Vigil is faster; goal ≥ 3 (issue 5)',
      reps: repetitions,
      targetSeconds: target,
      sendSet: {
        files: sendable.map((s) => ({ name: s.name, bytes: s.bytes, sopClassUid: s.sopClassUid, transferSyntaxUid: s.transferSyntaxUid })),
        bytesPerPass: setBytes,
        excluded,
        presentationContexts: config.presentationContexts,
      },
      settings,
      latency,
      orthancConfig:
        "Name, StorageDirectory and IndexDirectory (SQLite) in the scratch folder, DicomAet ORTHANC, DicomPort and HttpPort free ports, RemoteAccessAllowed false, AuthenticationEnabled false, Plugins [], DicomCheckCalledAet false; everything else Orthanc's default",
      versions: versions(orthanc),
      loadAverage: { start: loadAtStart, end: loadavg().map(round) },
      scratchFileSystem: run('df', ['--output=fstype', scratch]).stdout.trim().split('\n').at(-1) ?? null,
    };
  } finally {
    removeDir(scratch);
  }
}

// `node bench/lib/bench-ingest.js [--quick]` runs it alone and prints the result.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runIngestBench({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`[ingest] ${m}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
