import { auditCommand } from './audit.js';
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { modelCommand } from './model.js';
import { predictCommand } from './predict.js';

/** Every `vigil` command, by name. A new command is one file in this folder and one line here. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  predict: predictCommand,
  audit: auditCommand,
  model: modelCommand,
  demo: demoCommand,
};
