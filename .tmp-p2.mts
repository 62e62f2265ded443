import { parseDocument } from 'yaml';
const d = parseDocument('x: &a { y: *a }\n');
const v: any = d.toJS({ maxAliasCount: 1000 });
console.log(v.x.y === v.x);
