import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ConnectionSlots, type SlotState } from './connection-slots.js';

const limits = { maxAssociations: 4, maxAssociationsPerHost: 2, maxPending: 6, maxPendingPerHost: 3 };

describe('ConnectionSlots', () => {
  it('caps associations exactly, in total and per host', () => {
    const slots = new ConnectionSlots(limits);
    const hosts = ['a', 'a', 'a', 'b', 'b', 'c', 'c'];
    const admitted = hosts.map((host) => slots.admit(host));
    // Pending: 3 from a (its cap), 2 from b, then c's first would be the 6th (global cap 6), its second the 7th.
    expect(admitted).toEqual([true, true, true, true, true, true, false]);
    expect(['a', 'a', 'a', 'b', 'b', 'c'].map((host) => slots.associate(host))).toEqual([true, true, false, true, true, false]);
    expect(slots.counts()).toEqual({ pending: 2, associated: 4 });
    expect(slots.counts('a')).toEqual({ pending: 1, associated: 2 });
  });

  it('keeps room for another host while one host sits at its cap', () => {
    const slots = new ConnectionSlots(limits);
    for (let i = 0; i < 10; i += 1) if (slots.admit('noisy')) slots.associate('noisy');
    expect(slots.counts('noisy')).toEqual({ pending: 3, associated: 2 });
    expect(slots.admit('quiet') && slots.associate('quiet')).toBe(true);
  });

  it('frees a slot when its association ends or its socket closes', () => {
    const slots = new ConnectionSlots({ ...limits, maxAssociations: 1 });
    expect(slots.admit('a') && slots.associate('a')).toBe(true);
    expect(slots.admit('b') && slots.associate('b')).toBe(false);
    slots.endAssociation('a');
    expect(slots.associate('b')).toBe(true);
    slots.release('a', 'pending');
    slots.release('b', 'associated');
    expect(slots.counts()).toEqual({ pending: 0, associated: 0 });
    expect(slots.counts('a')).toEqual({ pending: 0, associated: 0 });
  });

  const operation = fc.record({ kind: fc.constantFrom('admit', 'associate', 'end', 'close'), host: fc.constantFrom('a', 'b', 'c'), pick: fc.nat() });

  test.prop([fc.array(operation, { maxLength: 200 })])('never holds more than the limits, and every slot returns once all sockets close', (operations) => {
    const slots = new ConnectionSlots(limits);
    const open: { host: string; state: SlotState }[] = [];
    for (const { kind, host, pick } of operations) {
      const mine = open.filter((connection) => connection.host === host);
      if (kind === 'admit') {
        if (slots.admit(host)) open.push({ host, state: 'pending' });
      } else if (mine.length > 0) {
        const connection = mine[pick % mine.length] ?? expect.fail('no connection');
        if (kind === 'associate' && connection.state === 'pending' && slots.associate(host)) connection.state = 'associated';
        else if (kind === 'end' && connection.state === 'associated') {
          slots.endAssociation(host);
          connection.state = 'pending';
        } else if (kind === 'close') {
          slots.release(host, connection.state);
          open.splice(open.indexOf(connection), 1);
        }
      }
      const associated = open.filter((c) => c.state === 'associated');
      expect(slots.counts()).toEqual({ pending: open.length - associated.length, associated: associated.length });
      expect(associated.length).toBeLessThanOrEqual(limits.maxAssociations);
      for (const name of ['a', 'b', 'c']) expect(associated.filter((c) => c.host === name).length).toBeLessThanOrEqual(limits.maxAssociationsPerHost);
    }
    for (const connection of open.splice(0)) slots.release(connection.host, connection.state);
    expect(slots.counts()).toEqual({ pending: 0, associated: 0 });
  });
});
