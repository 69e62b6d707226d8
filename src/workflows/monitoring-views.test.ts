import { describe, expect, it } from 'vitest';
import type { MonitorAlert } from '../domain/monitoring/deployment-monitors.js';
import { alertSummaryOf, percent } from './monitoring-views.js';

const alert = (effect: MonitorAlert['effect'], signal = 'acquisition.manufacturerModel:other'): MonitorAlert => ({
  detector: `${signal}:up`,
  signal,
  label: 'scanner model other than “pneumoniamnist”',
  direction: 'up',
  alarmCase: 10,
  windowStartCase: 1,
  windowStartTime: null,
  alarmTime: null,
  runLength: 10,
  statistic: 6,
  threshold: 5.9,
  arl0: 300_000,
  effect,
  contributors: [],
});

describe('alert sentences', () => {
  it('says a small reference rate as it is (found by the trial: a 0.05 % reference read "0.0%")', () => {
    expect(alertSummaryOf(alert({ kind: 'rate', observed: 0.6, reference: 0.0005, cases: 20 }))).toBe(
      'scanner model other than “pneumoniamnist” up: 60% of 20 images in the window, reference 0.05%',
    );
  });

  it('rounds rates by their size: whole from 10 %, one decimal from 1 %, two significant digits below, 0 as 0 %', () => {
    expect([0.5, 0.12, 0.02, 0.0123, 0.001, 0.000049, 0].map(percent)).toEqual(['50%', '12%', '2.0%', '1.2%', '0.1%', '0.0049%', '0%']);
  });
});
