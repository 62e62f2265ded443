// Prints vitest's JSON report as one plain closing line ("N passed, N failed, N skipped")
// that CI tooling of any language can read.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
