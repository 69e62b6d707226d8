/** A one-time message for the next screen ("Read recorded"), announced there in a live region. */
let pending: string | undefined;

export function setFlash(message: string): void {
  pending = message;
}

/** Read in a state initializer (which may run twice in development), cleared in an effect. */
export function peekFlash(): string | undefined {
  return pending;
}

export function clearFlash(): void {
  pending = undefined;
}
