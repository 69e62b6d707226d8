import { hash } from 'node:crypto';
import type { Hasher } from '../../ports/hasher.js';

export const nodeHasher: Hasher = {
  sha256Hex: (data) => hash('sha256', data, 'hex'),
};
