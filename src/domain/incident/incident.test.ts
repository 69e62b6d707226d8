import { describe, expect, it } from 'vitest';
import { COMMAND_LINE_ACTOR, applyIncidentAction, linkAlert, openIncident } from './incident.js';

const alert = (n: number, signal: string) => ({ alertId: `al-${n}`, detector: `${signal}:up`, signal, label: signal, at: `2026-12-07T12:00:0${n}.000Z` });

describe('incidents', () => {
  it('opens at the first alert, collects later ones once each, and takes the highest severity', () => {
    let incident = openIncident('inc-1', 'north', 'a'.repeat(64), alert(1, 'noise'));
    expect(incident.severity).toBe('medium');
    incident = linkAlert(incident, alert(2, 'noise'));
    expect(linkAlert(incident, alert(2, 'noise'))).toBe(incident);
    incident = linkAlert(incident, alert(3, 'probability'));
    expect(incident).toMatchObject({ severity: 'high', alertCount: 3, alertIds: ['al-1', 'al-2', 'al-3'], revision: 3 });
  });

  it('acknowledges (owner defaults to the acknowledger), assigns, notes, and resolves only with a postmortem', () => {
    const opened = openIncident('inc-1', 'north', 'a'.repeat(64), alert(1, 'positive'));
    const acked = applyIncidentAction(opened, { kind: 'acknowledge' }, 'u-1', 't1');
    expect(acked).toMatchObject({ state: 'acknowledged', owner: 'u-1', revision: 2 });
    expect(() => applyIncidentAction(acked, { kind: 'acknowledge' }, 'u-1', 't2')).toThrow(/acknowledged already/);
    // From the host's command line (no account): acknowledged, by local-cli in the timeline, and nobody made owner.
    const fromCli = applyIncidentAction(opened, { kind: 'acknowledge' }, COMMAND_LINE_ACTOR, 't1');
    expect(fromCli).toMatchObject({ state: 'acknowledged', owner: null });
    expect(fromCli.timeline.at(-1)).toMatchObject({ kind: 'acknowledge', by: 'local-cli' });
    const assigned = applyIncidentAction(acked, { kind: 'assign', owner: 'u-2' }, 'u-1', 't2');
    expect(assigned.owner).toBe('u-2');
    expect(() => applyIncidentAction(assigned, { kind: 'resolve', postmortem: '  ' }, 'u-2', 't3')).toThrow(/postmortem/);
    const resolved = applyIncidentAction(assigned, { kind: 'resolve', postmortem: 'Detector moved after a firmware update.' }, 'u-2', 't3');
    expect(resolved).toMatchObject({ state: 'resolved', resolvedAt: 't3', revision: 4 });
    expect(resolved.timeline.map((e) => e.kind)).toEqual(['opened', 'alert', 'acknowledge', 'assign', 'resolve']);
    expect(() => applyIncidentAction(resolved, { kind: 'note', text: 'late' }, 'u-2', 't4')).toThrow(/resolved/);
    expect(() => linkAlert(resolved, alert(2, 'noise'))).toThrow(/resolved/);
  });

  it('holds every action’s text to the human-text rule, for the CLI as for the API: no control, bidi or invisible characters, bounded', () => {
    const opened = openIncident('inc-1', 'north', 'a'.repeat(64), alert(1, 'noise'));
    const refused = (action: Parameters<typeof applyIncidentAction>[1]) => {
      expect(() => applyIncidentAction(opened, action, 'u-1', 't1')).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    };
    refused({ kind: 'assign', owner: '\u202eadmin' });
    refused({ kind: 'note', text: 'red \u001b[31m text' });
    refused({ kind: 'note', text: 'nul \u0000' });
    refused({ kind: 'pause', reason: 'x'.repeat(441) });
    refused({ kind: 'rollback', reason: 'two\nlines' });
    refused({ kind: 'resolve', postmortem: 'hidden \u2066 isolate' });
    // A note and a postmortem may hold several lines.
    expect(applyIncidentAction(opened, { kind: 'note', text: 'first line\nsecond\tline' }, 'u-1', 't1').timeline.at(-1)).toMatchObject({
      kind: 'note',
      text: 'first line\nsecond\tline',
    });
  });
});
