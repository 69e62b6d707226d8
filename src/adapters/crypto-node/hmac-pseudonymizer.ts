import { createHmac } from 'node:crypto';
import type { Pseudonymizer } from '../../ports/pseudonymizer.js';

/** HMAC-SHA-256 with the site secret, domain-separated by purpose, truncated to 128 bits. */
export class HmacPseudonymizer implements Pseudonymizer {
  constructor(private readonly secret: Uint8Array) {}

  studyKey(identifier: string): string {
    return 'st-' + createHmac('sha256', this.secret).update('vigil:study:v1\0').update(identifier).digest('hex').slice(0, 32);
  }
}
