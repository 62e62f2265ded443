import { parseTemplateYaml } from './src/templates/parse.js';
const base = 'name: a\nnamespace_name: b\nversion: 1.0.0\nsteps:\n  - name: s\n    handler:\n      callable: X\n';
for (const extra of ['      initialization: &a { x: *a }\n', '      initialization: { __proto__: { polluted: 1 } }\n', '      initialization: { big: 1e400 }\n', '      initialization: { k: .nan }\n']) {
  try { const t = parseTemplateYaml(base + extra, 'f.yaml'); console.log('OK', JSON.stringify(t.steps[0]?.handler), ({} as any).polluted); } catch (e: any) { console.log('ERR', e.message); }
}
