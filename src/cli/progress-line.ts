/**
 * A one-line progress bar on stderr, redrawn with a carriage return. Small enough that a progress
 * library would add more than it saves.
 */
export function createProgressLine(write: (text: string) => void, width = 30): { update(done: number, total: number): void; clear(): void } {
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total === 0 ? 1 : done / total;
      const filled = Math.round(fraction * width);
      write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} files`);
      drawn = true;
    },
    clear() {
      if (drawn) write('\r\x1b[2K');
      drawn = false;
    },
  };
}
