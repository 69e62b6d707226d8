import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { applyWindow, percentiles, resize, type Raster } from './pixel-ops.js';

const raster = (width: number, height: number, values: number[], channels = 1): Raster => ({ width, height, channels, data: Float32Array.from(values) });

describe('applyWindow', () => {
  it('follows PS3.3 C.11.2.1.2.1 LINEAR: c=2048, w=4096 maps 0 to 0 and 4095 to 1', () => {
    const out = applyWindow(raster(3, 1, [0, 2047.5, 4095]), { center: 2048, width: 4096 }, 'LINEAR');
    expect(out.data[0]).toBe(0);
    expect(out.data[1]).toBeCloseTo(0.5, 6);
    expect(out.data[2]).toBeCloseTo(1, 3);
  });
  it('LINEAR_EXACT is (x - c) / w + 0.5, clipped', () => {
    const out = applyWindow(raster(3, 1, [40, 90, 500]), { center: 40, width: 400 }, 'LINEAR_EXACT');
    expect(Array.from(out.data)).toEqual([0.5, expect.closeTo(0.625, 6), 1]);
  });
  it('SIGMOID is 0.5 at the centre', () => {
    expect(applyWindow(raster(1, 1, [100]), { center: 100, width: 50 }, 'SIGMOID').data[0]).toBeCloseTo(0.5, 6);
  });
});

describe('resize', () => {
  it('area-averages exact 2×2 blocks', () => {
    const out = resize(raster(4, 2, [0, 2, 4, 6, 2, 4, 6, 8]), 2, 1, 'area');
    expect(Array.from(out.data)).toEqual([2, 6]);
  });
  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })])(
    'area resize preserves the mean of the image',
    (w, h, ow, oh) => {
      const data = Array.from({ length: w * h }, (_, i) => (i * 37) % 101);
      const mean = data.reduce((a, b) => a + b, 0) / data.length;
      const out = resize(raster(w, h, data), ow, oh, 'area');
      const outMean = Array.from(out.data).reduce((a, b) => a + b, 0) / out.data.length;
      expect(outMean).toBeCloseTo(mean, 2);
    },
  );
  it('keeps channels interleaved', () => {
    const out = resize(raster(2, 1, [1, 10, 100, 3, 30, 300], 3), 1, 1, 'area');
    expect(Array.from(out.data)).toEqual([2, 20, 200]);
  });
  it('bilinear and nearest keep a constant image constant', () => {
    for (const f of ['bilinear', 'nearest'] as const) expect(new Set(resize(raster(5, 3, new Array<number>(15).fill(7)), 11, 9, f).data)).toEqual(new Set([7]));
  });
});

describe('percentiles', () => {
  const numpyLinear = (values: number[], q: number): number => {
    const s = [...values].sort((a, b) => a - b);
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, s.length - 1);
    return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
  };
  test.prop([fc.array(fc.integer({ min: -2000, max: 4000 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'the histogram path equals numpy linear interpolation on integers',
    (values, q) => {
      expect(percentiles(Float32Array.from(values), [q])[0]).toBeCloseTo(numpyLinear(values, q), 6);
    },
  );
  test.prop([fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'the sorting path equals numpy linear interpolation on floats',
    (values, q) => {
      const f32 = Array.from(Float32Array.from(values));
      expect(percentiles(Float32Array.from(values), [q])[0]).toBeCloseTo(numpyLinear(f32, q), 4);
    },
  );
});

// resizeArea as it was before its column pass was flattened, kept as the reference for bit-exact equality.
function referenceAreaWeights(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const result: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const from = o * scale;
    const to = (o + 1) * scale;
    const start = Math.floor(from);
    const end = Math.min(Math.ceil(to), inSize);
    const weights = new Float64Array(end - start);
    for (let i = start; i < end; i++) weights[i - start] = (Math.min(i + 1, to) - Math.max(i, from)) / scale;
    result.push({ start, weights });
  }
  return result;
}

function referenceResizeArea(image: Raster, width: number, height: number): Raster {
  const { channels } = image;
  const xs = referenceAreaWeights(image.width, width);
  const ys = referenceAreaWeights(image.height, height);
  // Separable: rows first into a (height × image.width) buffer, then columns.
  const tmp = new Float64Array(height * image.width * channels);
  for (let oy = 0; oy < height; oy++) {
    const { start, weights } = ys[oy] as { start: number; weights: Float64Array };
    for (let k = 0; k < weights.length; k++) {
      const w = weights[k] as number;
      const srcRow = (start + k) * image.width * channels;
      const dstRow = oy * image.width * channels;
      for (let i = 0; i < image.width * channels; i++) tmp[dstRow + i] = (tmp[dstRow + i] as number) + w * (image.data[srcRow + i] as number);
    }
  }
  const out = new Float32Array(width * height * channels);
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      const { start, weights } = xs[ox] as { start: number; weights: Float64Array };
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += (weights[k] as number) * (tmp[(oy * image.width + start + k) * channels + c] as number);
        out[(oy * width + ox) * channels + c] = sum;
      }
    }
  }
  return { width, height, channels, data: out };
}

describe('area resize equals the reference implementation bit for bit', () => {
  test.prop([
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 1, max: 60 }),
    fc.integer({ min: 1, max: 60 }),
    fc.constantFrom(1, 3),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  ])('upscaling and downscaling, grey and colour', (w, h, ow, oh, channels, seed) => {
    let state = seed;
    const data = Array.from({ length: w * h * channels }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state % 100_000) / 99_999 - 0.25;
    });
    const image = raster(w, h, data, channels);
    const bits = (r: Raster): number[] => Array.from(new Uint32Array(r.data.buffer, r.data.byteOffset, r.data.length));
    expect(bits(resize(image, ow, oh, 'area'))).toEqual(bits(w === ow && h === oh ? image : referenceResizeArea(image, ow, oh)));
  });
});
