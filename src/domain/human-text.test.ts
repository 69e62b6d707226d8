import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { hasActingCharacters, humanTextProblem, humanTextSchema, PAUSE_REASON, REVIEW_COMMENT, TOKEN_LABEL } from './human-text.js';

describe('human text', () => {
  it.each([
    ['ESC', 'a\u001b[2Jb'],
    ['CR', 'a\rb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['C1 CSI', 'a\u009b2Jb'],
    ['bidi override', 'a\u202eb'],
    ['bidi isolate', 'a\u2066b'],
    ['line separator', 'a\u2028b'],
    ['right-to-left mark', 'a\u200fb'],
    ['zero-width space (hides a split: "dri\u200bft")', 'dri\u200bft'],
    ['word joiner', 'a\u2060b'],
    ['byte-order mark inside', 'a\ufeffb'],
    ['line feed (one line)', 'a\nb'],
    ['tab (one line)', 'a\tb'],
    ['a lone high surrogate', 'lone \ud800 surrogate'],
    ['a lone low surrogate', 'lone \udfff'],
  ])('refuses %s in one line of text, naming the expectation without quoting the text', (_what, text) => {
    expect(humanTextProblem(PAUSE_REASON, text)).toBe('one line, no control, bidi or invisible formatting characters');
  });

  it('allows the zero-width joiner and non-joiner, which scripts and emoji need', () => {
    expect(humanTextProblem(PAUSE_REASON, 'می\u200cخواهم')).toBeUndefined();
    expect(humanTextProblem(PAUSE_REASON, 'क्\u200dष')).toBeUndefined();
    expect(humanTextProblem(PAUSE_REASON, '👩\u200d⚕️ on call')).toBeUndefined();
    // A surrogate pair is one character (an emoji outside the BMP), not a lone surrogate.
    expect(humanTextProblem(PAUSE_REASON, 'scanner 🩻 replaced')).toBeUndefined();
    expect(humanTextProblem(REVIEW_COMMENT, 'line one\n🩻 line two')).toBeUndefined();
  });

  it('bounds the length after trimming, and refuses the empty text unless allowed', () => {
    expect(humanTextProblem(PAUSE_REASON, 'x'.repeat(500))).toBeUndefined();
    expect(humanTextProblem(PAUSE_REASON, `  ${'x'.repeat(500)}  `)).toBeUndefined();
    expect(humanTextProblem(PAUSE_REASON, 'x'.repeat(501))).toBe('at most 500 characters');
    expect(humanTextProblem(PAUSE_REASON, '   ')).toBe('not empty');
    expect(humanTextProblem(REVIEW_COMMENT, '')).toBeUndefined();
    expect(humanTextProblem(TOKEN_LABEL, 'x'.repeat(65))).toBe('at most 64 characters');
    expect(PAUSE_REASON.parse('  scanner replaced  ')).toBe('scanner replaced');
  });

  it('lets several lines hold line feeds and tabs, and nothing else that acts', () => {
    expect(humanTextProblem(REVIEW_COMMENT, 'first line\n\tsecond line')).toBeUndefined();
    expect(humanTextProblem(REVIEW_COMMENT, 'first\r\nsecond')).toBe('no control, bidi or invisible formatting characters (line breaks and tabs allowed)');
    expect(humanTextProblem(REVIEW_COMMENT, 'x\u001b[31m')).toBe('no control, bidi or invisible formatting characters (line breaks and tabs allowed)');
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 40 })])('accepts a text exactly when it has no acting character and fits', (text) => {
    const accepted = humanTextSchema({ maxChars: 30 }).safeParse(text).success;
    const trimmed = text.trim();
    expect(accepted).toBe(trimmed.length >= 1 && trimmed.length <= 30 && !hasActingCharacters(trimmed));
  });
});
