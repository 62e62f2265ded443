import { describe, expect, it } from 'vitest';
import { envLayers, mergeLayers, parseEnvValue, sourceOf, type ConfigTable } from '../../src/config/merge.js';

describe('mergeLayers', () => {
  it('merges tables, replaces scalars and arrays, and records the last writer of each value', () => {
    const merged = mergeLayers([
      { source: 'base.toml', values: { a: { x: 1, list: [1, 2], inner: { y: true } } } },
      { source: 'prod.toml', values: { a: { x: 2, list: [3] }, b: 'new' } },
    ]);
    expect(merged.values).toEqual({ a: { x: 2, list: [3], inner: { y: true } }, b: 'new' });
    expect(sourceOf(merged, ['a', 'x'])).toBe('prod.toml');
    expect(sourceOf(merged, ['a', 'list'])).toBe('prod.toml');
    expect(sourceOf(merged, ['a', 'inner', 'y'])).toBe('base.toml');
    expect(sourceOf(merged, ['a'])).toBe('base.toml');
    expect(sourceOf(merged, ['a', 'list', 0])).toBe('prod.toml');
    expect(sourceOf(merged, ['nowhere'])).toBeUndefined();
  });

  it('forgets the sources inside a table that a scalar replaced, and the other way round', () => {
    const merged = mergeLayers([
      { source: 'one', values: { a: { x: 1 } } },
      { source: 'two', values: { a: 5 } },
      { source: 'three', values: { a: { y: 2 } } },
    ]);
    expect(merged.values).toEqual({ a: { y: 2 } });
    expect(sourceOf(merged, ['a', 'x'])).toBe('three');
    expect(sourceOf(merged, ['a', 'y'])).toBe('three');
  });

  it('keeps a __proto__ key as data instead of changing a prototype', () => {
    const values = JSON.parse('{"__proto__": {"polluted": true}}') as ConfigTable;
    const merged = mergeLayers([{ source: 'evil', values }]);
    expect(Object.keys(merged.values)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((merged.values as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseEnvValue', () => {
  it('reads TOML values and falls back to the raw text', () => {
    expect(parseEnvValue('5', false)).toBe(5);
    expect(parseEnvValue('0.25', false)).toBe(0.25);
    expect(parseEnvValue('true', false)).toBe(true);
    expect(parseEnvValue('[1, 2.5]', false)).toEqual([1, 2.5]);
    expect(parseEnvValue('"quoted"', false)).toBe('quoted');
    expect(parseEnvValue('plain words', false)).toBe('plain words');
    expect(parseEnvValue('1979-05-27', false)).toBe('1979-05-27');
    expect(parseEnvValue('1\nother = 2', false)).toBe('1\nother = 2');
  });

  it('keeps the raw text for string keys unless it is a quoted TOML string', () => {
    expect(parseEnvValue('5', true)).toBe('5');
    expect(parseEnvValue('false', true)).toBe('false');
    expect(parseEnvValue('"x y"', true)).toBe('x y');
  });
});

describe('envLayers', () => {
  it('orders aliases first, then TASKER__ variables from the shortest path', () => {
    const layers = envLayers(
      { TASKER__A__B: '1', TASKER__A: '{ b = 2 }', ALIAS: '3', UNRELATED: 'x' },
      { aliases: { ALIAS: ['a', 'b'] }, expectsString: () => false },
    );
    expect(layers.map((layer) => layer.source)).toEqual(['ALIAS', 'TASKER__A', 'TASKER__A__B']);
    expect(mergeLayers(layers).values).toEqual({ a: { b: 1 } });
  });
});
