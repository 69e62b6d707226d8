import { BlockList, isIP } from 'node:net';
import { PlatformError } from '../../../domain/errors.js';

const LOOPBACK = ['127.0.0.0/8', '::1'];

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) as `127.0.0.1`; other addresses unchanged. */
export function normalizeRemoteAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export type HostAllowlist = (remoteAddress: string) => boolean;

/** Addresses or CIDR blocks; absent means loopback only. Throws CONFIG_INVALID naming the entry's position. */
export function createHostAllowlist(entries: readonly string[] | undefined): HostAllowlist {
  const list = new BlockList();
  (entries ?? LOOPBACK).forEach((entry, index) => {
    const [address = '', prefixText, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const maxPrefix = family === 6 ? 128 : 32;
    if (family === 0 || rest.length > 0 || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix))) {
      throw new PlatformError('CONFIG_INVALID', 'A DICOM host allowlist entry is not an IP address or CIDR block', { entry: index });
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  });
  return (remoteAddress) => {
    const address = normalizeRemoteAddress(remoteAddress);
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}
