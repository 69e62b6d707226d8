import type { RasterDeclaration } from '../domain/image/image-frame.js';

export interface DemoRun {
  readonly title: string;
  readonly paths: readonly string[];
  readonly declared?: RasterDeclaration;
}

/** Prepares the demo's inputs from the public sample data (or explains how to send images when it is absent). */
export interface DemoInputs {
  prepare(): Promise<{ readonly runs: readonly DemoRun[]; readonly notes: readonly string[] }>;
}
