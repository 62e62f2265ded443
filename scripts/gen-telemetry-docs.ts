// Writes docs/telemetry.md from the system event mapping (npm run docs:telemetry).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderTelemetryDoc } from '../src/telemetry/audit-doc.js';

const target = fileURLToPath(new URL('../docs/telemetry.md', import.meta.url));
writeFileSync(target, renderTelemetryDoc());
process.stdout.write(`wrote ${target}\n`);
