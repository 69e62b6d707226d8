/**
 * Inputs the decode benchmark prepares outside its timed regions: JPEG 2000 codestreams cut out of the
 * DICOM encapsulated Pixel Data (for opj_decompress, which reads no DICOM), and tiny 8×8 images in each
 * family of syntaxes, to measure each tool's own start-up cost (process, loader, DICOM dictionary) so it
 * can be subtracted.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ITEM_GROUP = 0xfffe;
const ITEM = 0xe000;
const SEQUENCE_DELIMITER = 0xe0dd;
/** (7FE0,0010) in Explicit VR Little Endian, the only encoding encapsulated Pixel Data comes in. */
const PIXEL_DATA_TAG = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
/** OB as the standard says, but OW and UN occur in real files (the pydicom J2K sample has OW). */
const ENCAPSULATED_VRS = new Set(['OB', 'OW', 'UN']);
const HEADER_LENGTH = 12;

/**
 * The fragments of the top-level encapsulated Pixel Data (the Basic Offset Table item left out). Pixel Data
 * is the last top-level element in these files, so its last occurrence in the bytes is the top-level one
 * (an icon image sequence, if any, comes before it).
 */
export function encapsulatedFragments(bytes) {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = buffer.lastIndexOf(PIXEL_DATA_TAG);
  const isEncapsulatedHeader = (at) =>
    at + HEADER_LENGTH <= buffer.length &&
    ENCAPSULATED_VRS.has(buffer.toString('latin1', at + 4, at + 6)) &&
    buffer.readUInt16LE(at + 6) === 0 &&
    buffer.readUInt32LE(at + 8) === 0xffffffff;
  while (start >= 0 && !isEncapsulatedHeader(start)) start = start === 0 ? -1 : buffer.lastIndexOf(PIXEL_DATA_TAG, start - 1);
  if (start < 0) throw new Error('no encapsulated Pixel Data');
  const items = [];
  let p = start + HEADER_LENGTH;
  while (p + 8 <= buffer.length) {
    const group = buffer.readUInt16LE(p);
    const element = buffer.readUInt16LE(p + 2);
    const length = buffer.readUInt32LE(p + 4);
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITER) break;
    if (group !== ITEM_GROUP || element !== ITEM || p + 8 + length > buffer.length) throw new Error('malformed encapsulated Pixel Data');
    items.push(buffer.subarray(p + 8, p + 8 + length));
    p += 8 + length;
  }
  return items.slice(1);
}

/** The J2K/HTJ2K codestream of a single-frame file: all its fragments, concatenated (PS3.5 A.4). */
export function extractJ2kCodestream(bytes) {
  const codestream = Buffer.concat(encapsulatedFragments(bytes));
  // SOC marker then SIZ (J2K) or CAP (HTJ2K may put CAP after SIZ; SIZ always directly follows SOC).
  if (codestream[0] !== 0xff || codestream[1] !== 0x4f || codestream[2] !== 0xff || codestream[3] !== 0x51) throw new Error('not a J2K codestream');
  return codestream;
}

function element(group, elementNumber, vr, value) {
  const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  const longForm = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const header = Buffer.alloc(longForm ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (longForm) header.writeUInt32LE(padded.length, 8);
  else header.writeUInt16LE(padded.length, 6);
  return Buffer.concat([header, padded]);
}

const text = (s) => Buffer.from(s, 'latin1');
const us = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};

/** A minimal Secondary Capture Part 10 file: `size`×`size` MONOCHROME2 8-bit, Explicit VR Little Endian. */
export function buildTinyDicom(size = 8) {
  const sopClass = '1.2.840.10008.5.1.4.1.1.7';
  const sopInstance = '2.25.1234567890123456789';
  const syntax = '1.2.840.10008.1.2.1';
  const pixels = Buffer.alloc(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) & 0xff;
  const meta = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(sopClass)),
    element(0x0002, 0x0003, 'UI', text(sopInstance)),
    element(0x0002, 0x0010, 'UI', text(syntax)),
    element(0x0002, 0x0012, 'UI', text('2.25.99')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  const dataset = Buffer.concat([
    element(0x0008, 0x0016, 'UI', text(sopClass)),
    element(0x0008, 0x0018, 'UI', text(sopInstance)),
    element(0x0008, 0x0060, 'CS', text('OT')),
    element(0x0020, 0x000d, 'UI', text('2.25.1')),
    element(0x0020, 0x000e, 'UI', text('2.25.2')),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0010, 'US', us(size)),
    element(0x0028, 0x0011, 'US', us(size)),
    element(0x0028, 0x0100, 'US', us(8)),
    element(0x0028, 0x0101, 'US', us(8)),
    element(0x0028, 0x0102, 'US', us(7)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OB', pixels),
  ]);
  return Buffer.concat([Buffer.alloc(128), text('DICM'), element(0x0002, 0x0000, 'UL', groupLength), meta, dataset]);
}

function buildTinyPgm(size = 8) {
  const pixels = Buffer.alloc(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) & 0xff;
  return Buffer.concat([text(`P5\n${size} ${size}\n255\n`), pixels]);
}

/**
 * Writes the tiny start-up inputs into `dir`, one per tool: the uncompressed file for dcmconv and Vigil,
 * and compressed copies made with DCMTK's own encoders and opj_compress. A fixture whose encoder is missing
 * or fails is left out (null); the start-up-excluded view is then not available for that tool.
 */
export function writeTinyFixtures(dir) {
  const tinyDicom = join(dir, 'tiny-explicit-le.dcm');
  writeFileSync(tinyDicom, buildTinyDicom());
  const tinyPgm = join(dir, 'tiny.pgm');
  writeFileSync(tinyPgm, buildTinyPgm());
  const make = (command, args, out) => (spawnSync(command, args, { stdio: 'ignore' }).status === 0 ? out : null);
  return {
    native: tinyDicom,
    jpeg: make('dcmcjpeg', ['+eb', tinyDicom, join(dir, 'tiny-jpeg.dcm')], join(dir, 'tiny-jpeg.dcm')),
    'jpeg-ls': make('dcmcjpls', [tinyDicom, join(dir, 'tiny-jpegls.dcm')], join(dir, 'tiny-jpegls.dcm')),
    rle: make('dcmcrle', [tinyDicom, join(dir, 'tiny-rle.dcm')], join(dir, 'tiny-rle.dcm')),
    // One resolution level: the default (6) needs at least 32×32 pixels.
    j2k: make('opj_compress', ['-n', '1', '-i', tinyPgm, '-o', join(dir, 'tiny.j2k')], join(dir, 'tiny.j2k')),
  };
}

export function readBytes(path) {
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
