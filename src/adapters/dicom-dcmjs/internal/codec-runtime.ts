/**
 * The dcmjs-codecs WebAssembly module (IJG libjpeg 6b 8/12/16-bit, CharLS, OpenJPEG, OpenJPH, RLE), loaded
 * once, lazily, and shared by every reader in the process.
 *
 * A codec failure is reported by a JavaScript exception thrown from inside the WASM call. That unwinds the
 * C++ frames without running their epilogues: the module's shadow stack pointer and heap are left as they
 * were mid-call. Measured here: after one garbage frame, later valid calls fail with "unreachable" or
 * "memory access out of bounds". So a failed decode discards the instance, and the next decode loads a fresh
 * one (about 25 ms). The WASM has no other way out: its stdout/stderr go to dcmjs-codecs' logger, silenced
 * in libraries.ts, and informational callbacks are off.
 */
import { dicomError } from './dicom-error.js';
import { Context, NativeCodecs } from './libraries.js';
import type { PixelEncoding } from './transfer-syntax.js';

export interface CodecFrame {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  readonly pixelRepresentation: number;
  readonly planarConfiguration: number;
  /** As the file declares it: the JPEG decoder converts YBR_FULL / YBR_FULL_422 to RGB. */
  readonly photometric: string;
}

export interface DecodedCodecFrame {
  /** Samples as little-endian bytes of `bitsAllocated` each. */
  readonly bytes: Uint8Array;
  /** What the samples are after decoding, as the codec reports it. */
  readonly photometric: string;
  readonly planarConfiguration: number;
}

type CodecEncoding = Exclude<PixelEncoding, 'native' | 'encapsulated-native'>;

/** The load in progress or done; reset when it fails and when the instance is discarded. */
let loading: Promise<void> | undefined;

async function loadCodecs(): Promise<void> {
  const load = (loading ??= NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false }));
  try {
    await load;
  } catch (error) {
    if (loading === load) loading = undefined;
    throw dicomError('DICOM_PIXEL_DECODE_FAILED', 'The image codecs could not be loaded', {}, error);
  }
}

function discardCodecs(): void {
  NativeCodecs.release();
  loading = undefined;
}

export async function decodeWithCodec(encoding: CodecEncoding, encoded: Uint8Array, frame: CodecFrame): Promise<DecodedCodecFrame> {
  // Another decode may fail, and discard the instance, while this one waits: check again on waking. Each
  // extra lap follows one failed decode elsewhere (those are finite), and a load that fails throws.
  while (!NativeCodecs.isInitialized()) await loadCodecs();
  // From the check above to the end the call is synchronous: no other decode can interleave with it.
  try {
    const context = new Context({
      width: frame.columns,
      height: frame.rows,
      bitsAllocated: frame.bitsAllocated,
      bitsStored: frame.bitsStored,
      samplesPerPixel: frame.samplesPerPixel,
      pixelRepresentation: frame.pixelRepresentation,
      planarConfiguration: frame.planarConfiguration,
      photometricInterpretation: frame.photometric,
      encodedBuffer: encoded,
    });
    const decoded = runCodec(encoding, context);
    const bytes = decoded.getDecodedBuffer();
    if (bytes === undefined) throw new Error('codec returned no buffer');
    return { bytes, photometric: decoded.getPhotometricInterpretation() ?? frame.photometric, planarConfiguration: decoded.getPlanarConfiguration() ?? 0 };
  } catch (error) {
    discardCodecs();
    throw dicomError('DICOM_PIXEL_DECODE_FAILED', 'The frame could not be decoded', {}, error);
  }
}

function runCodec(encoding: CodecEncoding, context: InstanceType<typeof Context>): InstanceType<typeof Context> {
  switch (encoding) {
    case 'rle':
      return NativeCodecs.decodeRle(context);
    case 'jpeg':
      // Bit-identical to DCMTK dcmdjpeg's default YCbCr to RGB conversion (notes, "Colour JPEG").
      return NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: true });
    case 'jpeg-ls':
      return NativeCodecs.decodeJpegLs(context);
    case 'jpeg2000':
      return NativeCodecs.decodeJpeg2000(context);
    case 'htj2k':
      return NativeCodecs.decodeHtJpeg2000(context);
  }
}
