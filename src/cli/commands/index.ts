import { auditCommand } from './audit.js';
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { calibrateCommand } from './calibrate.js';
import { criteriaCommand } from './criteria.js';
import { policyCommand } from './policy.js';
import { deidCommand } from './deid.js';
import { modelCommand } from './model.js';
import { predictCommand } from './predict.js';
import { serveCommand } from './serve.js';
import { usersCommand } from './users.js';
import { releaseCommand } from './release.js';
import { deployCommand } from './deploy.js';
import { incidentCommand, monitorCommand } from './monitor.js';

/** Every `vigil` command, by name. A new command is one file in this folder and one line here. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  predict: predictCommand,
  deid: deidCommand,
  audit: auditCommand,
  model: modelCommand,
  demo: demoCommand,
  criteria: criteriaCommand,
  evaluate: evaluateCommand,
  calibrate: calibrateCommand,
  policy: policyCommand,
  serve: serveCommand,
  users: usersCommand,
  release: releaseCommand,
  deploy: deployCommand,
  monitor: monitorCommand,
  incident: incidentCommand,
};
