import { describe, expect, it } from 'vitest';
import { buildFrame } from './frame-builder.js';
import { deviceLabel, summarizeImage } from './image-summary.js';

describe('summarizeImage', () => {
  it('keeps what a reader needs and de-identification keeps, and the declared site and device', () => {
    const { attributes } = buildFrame(new Uint16Array(4), 2, 2, {
      viewPosition: 'PA',
      manufacturer: 'Acme',
      manufacturerModelName: 'X1',
      patientSex: 'F',
      numberOfFrames: 30,
    });
    expect(summarizeImage(attributes, { min: 1, max: 5 }, { site: 'north', device: 'ward camera' })).toEqual({
      modality: 'CR',
      bodyPart: 'CHEST',
      view: 'PA',
      patientAgeYears: '1-5',
      patientSex: 'F',
      manufacturer: 'Acme',
      manufacturerModel: 'X1',
      site: 'north',
      device: 'ward camera',
      frames: 30,
    });
  });
  it('leaves out what is not known (sex emptied by the Basic Profile, no age, nothing declared)', () => {
    const { attributes } = buildFrame(new Uint16Array(4), 2, 2);
    expect(summarizeImage(attributes, undefined, undefined)).toEqual({ modality: 'CR', bodyPart: 'CHEST', frames: 1 });
    expect(summarizeImage(attributes, 64, undefined).patientAgeYears).toBe('64');
  });
});

describe('deviceLabel', () => {
  it('prefers the declared device, else manufacturer and model', () => {
    expect(deviceLabel({ device: 'ward camera', manufacturer: 'Acme' })).toBe('ward camera');
    expect(deviceLabel({ manufacturer: 'Acme', manufacturerModel: 'X1' })).toBe('Acme X1');
    expect(deviceLabel({ manufacturerModel: 'X1' })).toBe('X1');
    expect(deviceLabel({})).toBeUndefined();
  });
});
