import { describe, expect, it } from 'vitest';
import {
  dependents,
  findCycle,
  formatCycle,
  leaves,
  roots,
  topologicalOrder,
  type DagNode,
} from '../../src/templates/dag.js';

const node = (name: string, ...dependencies: string[]): DagNode => ({ name, dependencies });

// start -> (left, right) -> join, plus an independent audit step.
const diamond = [
  node('start'),
  node('left', 'start'),
  node('right', 'start'),
  node('join', 'right', 'left'),
  node('audit'),
];

describe('dag', () => {
  it('finds no cycle in a DAG', () => {
    expect(findCycle(diamond)).toBeUndefined();
    expect(findCycle([])).toBeUndefined();
  });

  it('returns the cycle as a closed path starting at the member listed first', () => {
    const nodes = [node('entry', 'c'), node('a', 'c'), node('b', 'a'), node('c', 'b')];
    expect(findCycle(nodes)).toEqual(['a', 'c', 'b', 'a']);
    expect(formatCycle(['a', 'c', 'b', 'a'])).toBe('a -> c -> b -> a');
  });

  it('finds a self-loop and a cycle reached only through a long chain', () => {
    expect(findCycle([node('a', 'a')])).toEqual(['a', 'a']);
    const chain = Array.from({ length: 5000 }, (_, i) => node(`s${i}`, ...(i === 0 ? [] : [`s${i - 1}`])));
    chain[0] = node('s0', 's4999');
    expect(findCycle(chain)?.length).toBe(5001);
  });

  it('ignores dependencies on unknown steps when looking for cycles', () => {
    expect(findCycle([node('a', 'ghost')])).toBeUndefined();
  });

  it('orders steps after their dependencies, file order breaking ties', () => {
    expect(topologicalOrder(diamond)).toEqual(['start', 'left', 'right', 'join', 'audit']);
    const reversed = [node('c', 'b'), node('b', 'a'), node('a')];
    expect(topologicalOrder(reversed)).toEqual(['a', 'b', 'c']);
  });

  it('refuses to order a cyclic graph or one with unknown dependencies', () => {
    expect(() => topologicalOrder([node('a', 'b'), node('b', 'a')])).toThrow('dependency cycle: a -> b -> a');
    expect(() => topologicalOrder([node('a', 'ghost')])).toThrow('step "a" depends on unknown step "ghost"');
  });

  it('lists roots, leaves and direct dependents', () => {
    expect(roots(diamond)).toEqual(['start', 'audit']);
    expect(leaves(diamond)).toEqual(['join', 'audit']);
    expect(Object.fromEntries(dependents(diamond))).toEqual({
      start: ['left', 'right'],
      left: ['join'],
      right: ['join'],
      join: [],
      audit: [],
    });
  });
});
