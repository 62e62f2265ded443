// Writes docs/state-machines.md from the state machine tables (npm run docs:states).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderStateMachinesDoc } from '../src/state/transition-table-doc.js';

const target = fileURLToPath(new URL('../docs/state-machines.md', import.meta.url));
writeFileSync(target, renderStateMachinesDoc());
process.stdout.write(`wrote ${target}\n`);
