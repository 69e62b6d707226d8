import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { printableText } from './printable-text.js';

const ACTING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('printableText', () => {
  it('writes what would act on a terminal as a visible escape, and keeps line feeds and tabs', () => {
    expect(printableText('paused\u001b[2J\rall fine\u0007\u009b\u202e\n\tnext')).toBe('paused\\u001b[2J\\u000dall fine\\u0007\\u009b\\u202e\n\tnext');
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 60 })])('leaves no acting character, and keeps JSON the same value', (text) => {
    expect(printableText(text)).not.toMatch(ACTING);
    const json = JSON.stringify({ text });
    expect(JSON.parse(printableText(json))).toEqual({ text });
  });
});
