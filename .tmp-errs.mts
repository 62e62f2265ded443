import { readdirSync } from 'node:fs';
import { loadTemplates } from './src/templates/load.js';
const dir = 'test/fixtures/templates/invalid';
for (const f of readdirSync(dir).sort()) {
  try { await loadTemplates([`${dir}/${f}`]); console.log(f, '=> NO ERROR'); } catch (e: any) { console.log(`[${e.code}] ${e.message}`); }
}
for (const p of [['test/fixtures/templates/conflict'], ['test/fixtures/templates/duplicate'], ['nope'], ['test/fixtures/templates/valid/shipping/README.txt'], ['test/fixtures/templates/valid']]) {
  try { const r = await loadTemplates(p); console.log(p, r.all().map(t => `${t.namespace}/${t.name}@${t.version}`)); } catch (e: any) { console.log(`[${e.code}] ${e.message}`); }
}
