/**
 * The one module that imports dcmjs and dcmjs-codecs. Both are CommonJS-era packages: ESM named imports of
 * them type-check and then throw at run time (docs/notes "DICOM in Node"), so take the default export and
 * destructure. Importing this module silences both libraries' loggers: dcmjs prints "Invalid vr type …"
 * and friends through loglevel, and the codec WASM routes its stdout/stderr (`fd_write`) to dcmjs-codecs'
 * logger. Nothing they say may reach the console, because it can quote a tag value.
 */
import dcmjs from 'dcmjs';
import dcmjsCodecs from 'dcmjs-codecs';

dcmjs.log.setLevel('silent');
// loglevel child loggers keep their own level once created; dcmjs creates this one at load time.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
dcmjsCodecs.log.setLevel('silent');

export const { ReadBufferStream, DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;
export const { NativeCodecs, Context } = dcmjsCodecs;
export type CodecContext = InstanceType<typeof Context>;
