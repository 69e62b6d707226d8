#!/usr/bin/env node
// Decodes every frame of one DICOM file with Vigil's reader and exits: the "decode only" command line the
// benchmark compares with dcmdjpeg, dcmdjpls, dcmdrle, dcmconv and opj_decompress, one process per file.
//
//   node bench/decode-one.js FILE [--json]
//
// --json prints the in-process times (read, parse, decode) so the start-up share can be seen.
import { readFile } from 'node:fs/promises';

const started = performance.now();
const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/decode-one.js FILE [--json]\n');
  process.exit(64);
}
const { DcmjsDicomReader } = await import(new URL('../dist/adapters/dicom-dcmjs/dcmjs-dicom-reader.js', import.meta.url).href);
const imported = performance.now();
const bytes = await readFile(file);
const read = performance.now();
const instance = await new DcmjsDicomReader().readInstance(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const parsed = performance.now();
let samples = 0;
for (let i = 0; i < instance.frameCount; i++) samples += (await instance.decodeFrame(i)).pixels.length;
const decoded = performance.now();
if (flag === '--json') {
  const ms = (a, b) => Math.round((b - a) * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify({ frames: instance.frameCount, samples, importMs: ms(started, imported), readMs: ms(imported, read), parseMs: ms(read, parsed), decodeMs: ms(parsed, decoded), sinceProcessStartMs: Math.round(performance.now()) })}\n`,
  );
}
