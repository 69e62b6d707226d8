/**
 * The native peers the bench compares Vigil with, installed by the bench itself when missing (Debian
 * packages; the bench runs as root on the project's machines), and a description of the machine.
 *
 * An install that fails does not stop the bench: the comparison that needs it is skipped with a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

const PYTHON = '/usr/bin/python3';

/** Debian package → the commands the bench runs from it. */
const PACKAGES = {
  dcmtk: ['dcmdjpeg', 'dcmdjpls', 'dcmdrle', 'dcmconv', 'dcm2pnm', 'dcmcjpeg', 'dcmcjpls', 'dcmcrle'],
  'libopenjp2-tools': ['opj_decompress', 'opj_compress'],
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

export function hasCommand(name) {
  return run('sh', ['-c', `command -v ${name}`]).ok;
}

function lastLines(text, count = 3) {
  return text.trim().split('\n').slice(-count).join(' | ');
}

/** `apt-get install -y`, after `apt-get update` if the first try fails (an empty or stale package list). */
function aptInstall(packages, log) {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, message: 'not root: cannot apt-get install' };
  if (!hasCommand('apt-get')) return { ok: false, message: 'apt-get not found' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeout: 900_000 });
  log(`installing ${packages.join(' ')} (apt-get install -y)…`);
  let result = install();
  if (!result.ok) {
    log('apt-get install failed; running apt-get update and trying again…');
    const update = run('apt-get', ['update'], { env, timeout: 300_000 });
    if (!update.ok) return { ok: false, message: `apt-get update failed: ${lastLines(update.stderr || update.stdout)}` };
    result = install();
  }
  return result.ok
    ? { ok: true, message: `installed ${packages.join(' ')}` }
    : { ok: false, message: `apt-get install ${packages.join(' ')} failed: ${lastLines(result.stderr || result.stdout)}` };
}

function pythonHasTorch() {
  return existsSync(PYTHON) && run(PYTHON, ['-c', 'import torch, onnx'], { timeout: 120_000 }).ok;
}

/**
 * Makes sure DCMTK, OpenJPEG's tools and (for building the ResNet-18 bundle) PyTorch + onnx are there,
 * installing what is missing unless `install` is false. Returns what is available and what happened.
 */
export function ensurePeers({ install = true, needTorch = true, log = () => {} } = {}) {
  const status = {};
  for (const [pkg, commands] of Object.entries(PACKAGES)) {
    let missing = commands.filter((c) => !hasCommand(c));
    let message = missing.length === 0 ? 'already installed' : `missing: ${missing.join(', ')}`;
    if (missing.length > 0 && install) {
      const result = aptInstall([pkg], log);
      missing = commands.filter((c) => !hasCommand(c));
      message = result.ok && missing.length === 0 ? result.message : `${result.message}${missing.length > 0 ? `; still missing: ${missing.join(', ')}` : ''}`;
    }
    status[pkg] = { available: missing.length === 0, missing, message };
  }
  if (needTorch) {
    let available = pythonHasTorch();
    let message = available ? 'already installed' : `${PYTHON} cannot import torch and onnx`;
    if (!available && install) {
      const result = aptInstall(['python3-torch', 'python3-onnx'], log);
      available = pythonHasTorch();
      message = available ? result.message : `${result.message}; ${PYTHON} still cannot import torch and onnx`;
    }
    status.torch = { available, message };
  }
  return status;
}

function firstMatch(text, pattern) {
  return pattern.exec(text)?.[1] ?? null;
}

function dpkgVersion(pkg) {
  const result = run('dpkg-query', ['-W', '-f', '${Version}', pkg]);
  return result.ok ? result.stdout.trim() : null;
}

function npmVersion(name) {
  try {
    return JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Versions of every peer and library whose speed the figures depend on. */
export function collectVersions() {
  const dcmtk = hasCommand('dcmdjpeg') ? firstMatch(run('dcmdjpeg', ['--version']).stdout, /dcmdjpeg v(\S+)/) : null;
  const opj = hasCommand('opj_decompress') ? run('opj_decompress', ['-h']) : undefined;
  const torch = existsSync(PYTHON)
    ? run(PYTHON, ['-c', 'import sys, torch, onnx; print(sys.version.split()[0], torch.__version__, onnx.__version__)'], { timeout: 120_000 })
    : undefined;
  const [python, torchVersion, onnxVersion] = torch?.ok ? torch.stdout.trim().split(' ') : [null, null, null];
  return {
    node: process.version,
    dcmtk: dcmtk === null ? null : { version: dcmtk, debianPackage: dpkgVersion('dcmtk') },
    openjpeg:
      opj === undefined
        ? null
        : { version: firstMatch(`${opj.stdout}${opj.stderr}`, /openjp2 library v(\d+(?:\.\d+)*)/), debianPackage: dpkgVersion('libopenjp2-tools') },
    python,
    torch: torchVersion,
    onnx: onnxVersion,
    npm: Object.fromEntries(['onnxruntime-node', 'dcmjs', 'dcmjs-codecs', 'sharp', 'better-sqlite3', 'fflate'].map((n) => [n, npmVersion(n)])),
  };
}

function osName() {
  try {
    return firstMatch(readFileSync('/etc/os-release', 'utf8'), /^PRETTY_NAME="?([^"\n]+)"?/m);
  } catch {
    return null;
  }
}

function fileSystemOf(dir) {
  const result = run('df', ['--output=fstype', dir]);
  return result.ok ? result.stdout.trim().split('\n').at(-1) : null;
}

function gitState() {
  const head = run('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT });
  const dirty = run('git', ['status', '--porcelain'], { cwd: REPO_ROOT });
  return head.ok ? { commit: head.stdout.trim(), uncommittedFiles: dirty.ok ? dirty.stdout.split('\n').filter(Boolean).length : null } : null;
}

export function describeMachine(scratchParent) {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? null,
    cpus: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    kernel: release(),
    scratchFileSystem: fileSystemOf(scratchParent),
    git: gitState(),
  };
}
