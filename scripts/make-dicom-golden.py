#!/usr/bin/python3
"""Golden pixel hashes for the DICOM samples, from decoders independent of the reader under test.

Run with Debian's Python (python3-pydicom) and tools (dcmtk, libopenjp2-tools):

    /usr/bin/python3 scripts/make-dicom-golden.py [samples-dir] [output.json]

Defaults: $VIGIL_SAMPLE_DATA/dicom-samples (VIGIL_SAMPLE_DATA defaults to ../shared/data from the repository
root) and test/fixtures/dicom-golden.json. The sample files are not copied anywhere; only hashes and small
summaries are written.

Oracle per transfer syntax. The reader decodes with dcmjs-codecs' WASM builds of IJG libjpeg 6b, CharLS,
OpenJPEG, OpenJPH and its own RLE code. The oracles are separate code or separate native builds, but for JPEG
(DCMTK's patched IJG 6b), JPEG-LS (DCMTK's CharLS fork) and JPEG 2000 (native OpenJPEG) they share the codec's
lineage, so a bug common to both lines would not show; native data (pydicom), RLE (DCMTK) and HTJ2K (OpenJPEG
against OpenJPH) are independent implementations:
  - native (implicit/explicit LE, explicit BE, deflated): pydicom's numpy handler;
  - RLE Lossless: DCMTK dcmdrle to Explicit VR Little Endian, then pydicom;
  - JPEG baseline / extended / lossless: DCMTK dcmdjpeg (IJG libjpeg, default +cp: YCbCr converted to RGB),
    then pydicom;
  - JPEG-LS: DCMTK dcmdjpls (its own CharLS build), then pydicom;
  - JPEG 2000 and HTJ2K: each frame's codestream (pydicom's encaps) decoded by native OpenJPEG opj_decompress
    to little-endian raw samples (OpenJPEG >= 2.5 decodes HTJ2K). The reader uses OpenJPH for HTJ2K.

Convention for the hashes: per frame, SHA-256 of the stored values as little-endian bytes of the natural
dtype (Bits Allocated 8/16/32 as uint/int by Pixel Representation; colour always unsigned), with the bits
above Bits Stored cleared (unsigned) or sign-extended (signed), colour interleaved R,G,B after conversion to
RGB as the oracle performs it (DCMTK's libjpeg conversion for JPEG YCbCr; no native YBR sample exists).

Where no exact oracle exists the entry says so: HTJ2K lossy decodes differ by one grey level between OpenJPH
and OpenJPEG (different rounding in the irreversible 9/7 wavelet), so that entry is compared with a
tolerance on a fixed subsample and the mean instead of the hash.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = {'1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2'}
RLE = {'1.2.840.10008.1.2.5'}
JPEG = {'1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'}
JPEG_LS = {'1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'}
J2K = {'1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203'}
HTJ2K_LOSSY = '1.2.840.10008.1.2.4.203'
SUBSAMPLE_STRIDE = 331  # prime, so the subsample walks across rows, columns and channels


def tool_version(command):
    result = subprocess.run(command, capture_output=True, text=True)
    text = (result.stdout + result.stderr).strip().splitlines()
    return text[0].strip() if text else command[0]


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'{command[0]} failed: {result.stderr.strip()[:500]}')
    return result


def frames_array(ds):
    """pixel_array as (frames, rows, columns[, samples])."""
    arr = ds.pixel_array
    frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    if frames == 1:
        arr = arr[np.newaxis, ...]
    return arr


def decoded_by_dcmtk(tool, path, tmp):
    out = os.path.join(tmp, 'decoded.dcm')
    run([tool, path, out])
    decoded = pydicom.dcmread(out)
    photometric = decoded.PhotometricInterpretation
    if photometric not in ('MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR'):
        raise RuntimeError(f'{tool} left photometric {photometric}')
    return frames_array(decoded)


def decoded_by_openjpeg(ds, tmp):
    frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    rows, columns, samples = ds.Rows, ds.Columns, ds.SamplesPerPixel
    signed = ds.PixelRepresentation == 1 and samples == 1
    out = []
    for codestream in generate_pixel_data_frame(ds.PixelData, frames):
        source = os.path.join(tmp, 'frame.j2k')
        target = os.path.join(tmp, 'frame.rawl')
        with open(source, 'wb') as f:
            f.write(codestream)
        run(['opj_decompress', '-quiet', '-i', source, '-o', target])
        raw = open(target, 'rb').read()
        # RAWL: components one after another, each sample in 1 byte (precision <= 8) or 2 bytes little-endian.
        width = len(raw) // (rows * columns * samples)
        dtype = {1: 'i1' if signed else 'u1', 2: '<i2' if signed else '<u2'}[width]
        planes = np.frombuffer(raw, dtype=dtype).reshape(samples, rows, columns)
        out.append(planes[0] if samples == 1 else np.moveaxis(planes, 0, -1))
    return np.stack(out)


def normalise(arr, ds):
    """Natural dtype, little-endian, bits above Bits Stored cleared or sign-extended."""
    bits_allocated = ds.BitsAllocated
    bits_stored = int(getattr(ds, 'BitsStored', bits_allocated))
    signed = ds.PixelRepresentation == 1 and ds.SamplesPerPixel == 1
    unsigned = np.dtype(f'<u{bits_allocated // 8}')
    values = arr.astype(np.int64) & ((1 << bits_stored) - 1)
    if signed:
        values = np.where(values >= (1 << (bits_stored - 1)), values - (1 << bits_stored), values)
        return values.astype(np.dtype(f'<i{bits_allocated // 8}'))
    return values.astype(unsigned)


def main():
    default_data = os.environ.get('VIGIL_SAMPLE_DATA', os.path.join('..', 'shared', 'data'))
    samples_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.normpath(os.path.join(REPO, default_data)), 'dicom-samples')
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, 'test', 'fixtures', 'dicom-golden.json')
    versions = {
        'pydicom': pydicom.__version__,
        'numpy': np.__version__,
        'dcmtk': tool_version(['dcmdjpeg', '--version']),
        'openjpeg': next((line.strip() for line in subprocess.run(['opj_decompress', '-h'], capture_output=True, text=True).stdout.splitlines() if 'openjp2' in line), 'opj_decompress'),
    }
    entries = {}
    for name in sorted(os.listdir(samples_dir)):
        if not name.endswith('.dcm'):
            continue
        path = os.path.join(samples_dir, name)
        data = open(path, 'rb').read()
        ds = pydicom.dcmread(path)
        ts = str(ds.file_meta.TransferSyntaxUID)
        with tempfile.TemporaryDirectory() as tmp:
            if ts in NATIVE:
                oracle, arr = f'pydicom {pydicom.__version__} numpy handler', frames_array(ds)
            elif ts in RLE:
                oracle, arr = 'DCMTK dcmdrle, then pydicom', decoded_by_dcmtk('dcmdrle', path, tmp)
            elif ts in JPEG:
                oracle, arr = 'DCMTK dcmdjpeg (+cp: YCbCr to RGB), then pydicom', decoded_by_dcmtk('dcmdjpeg', path, tmp)
            elif ts in JPEG_LS:
                oracle, arr = 'DCMTK dcmdjpls, then pydicom', decoded_by_dcmtk('dcmdjpls', path, tmp)
            elif ts in J2K:
                oracle, arr = 'OpenJPEG opj_decompress (native) on each frame codestream', decoded_by_openjpeg(ds, tmp)
            else:
                raise RuntimeError(f'{name}: no oracle for this transfer syntax')
        values = normalise(arr, ds)
        frames = []
        for frame in values:
            flat = np.ascontiguousarray(frame).reshape(-1)
            record = {'sha256': hashlib.sha256(flat.tobytes()).hexdigest(), 'mean': round(float(flat.mean()), 6)}
            if ts == HTJ2K_LOSSY:
                record['subsample'] = {'stride': SUBSAMPLE_STRIDE, 'values': flat[::SUBSAMPLE_STRIDE].tolist()}
            frames.append(record)
        entry = {
            'fileSha256': hashlib.sha256(data).hexdigest(),
            'transferSyntaxUid': ts,
            'oracle': oracle,
            'dtype': values.dtype.name,
            'rows': int(ds.Rows),
            'columns': int(ds.Columns),
            'samplesPerPixel': int(ds.SamplesPerPixel),
            'frames': frames,
        }
        if ts == HTJ2K_LOSSY:
            entry['comparison'] = {
                'kind': 'tolerance',
                'maxAbsDiff': 1,
                'maxMeanDiff': 0.5,
                'reason': 'No exact independent oracle: the reader decodes HTJ2K with OpenJPH, the only other decoder here '
                'is OpenJPEG, and for the lossy 9/7 wavelet the two round differently (measured: 1 grey level).',
            }
        else:
            entry['comparison'] = {'kind': 'exact'}
        entries[name] = entry
        print(f'{name}: {oracle}, {len(frames)} frame(s)', file=sys.stderr)
    golden = {
        'generatedBy': 'scripts/make-dicom-golden.py',
        'convention': 'Per frame: SHA-256 of stored values as little-endian bytes of the natural dtype (uint/int 8/16/32 '
        'from Bits Allocated and Pixel Representation; colour unsigned), bits above Bits Stored cleared or '
        'sign-extended, colour interleaved RGB after the oracle\'s own conversion to RGB.',
        'tools': versions,
        'samples': entries,
    }
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
