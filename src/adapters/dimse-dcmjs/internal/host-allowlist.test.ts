import { describe, expect, it } from 'vitest';
import { createHostAllowlist, normalizeRemoteAddress } from './host-allowlist.js';

describe('createHostAllowlist', () => {
  it('allows loopback only by default, including IPv4-mapped IPv6', () => {
    const isAllowed = createHostAllowlist(undefined);
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isAllowed)).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '::2', '', 'localhost'].map(isAllowed)).toEqual([false, false, false, false]);
  });

  it('takes addresses and CIDR blocks of both families', () => {
    const isAllowed = createHostAllowlist(['10.1.0.0/16', '192.168.1.7', 'fd00::/8']);
    expect(['10.1.200.3', '10.2.0.1', '192.168.1.7', '192.168.1.8', 'fd12::1', '::ffff:10.1.0.9'].map(isAllowed)).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
  });

  it('refuses a malformed entry with CONFIG_INVALID, naming its position only', () => {
    for (const entry of ['10.0.0.0/33', 'example.org', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) {
      expect(() => createHostAllowlist(['127.0.0.1', entry])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { entry: 1 } }));
    }
  });

  it('normalizes IPv4-mapped addresses', () => {
    expect(normalizeRemoteAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeRemoteAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
