/**
 * Graph questions about a template's steps, where an edge runs from a step to each of its
 * dependencies: cycles (with their path), topological order, roots and leaves. Pure.
 */
import { TaskerError } from '../errors.js';

/** The part of a step the graph needs. */
export interface DagNode {
  readonly name: string;
  readonly dependencies: readonly string[];
}

/**
 * A dependency cycle as a closed path, `['a', 'b', 'c', 'a']` meaning a depends on b, b on c
 * and c on a; it starts at the member listed first. Undefined when the graph is acyclic.
 * Dependencies on unknown names are ignored (report those separately).
 */
export function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const order = new Map(nodes.map((node, index) => [node.name, index]));
  const state = new Map<string, 'visiting' | 'done'>();

  for (const start of nodes) {
    if (state.has(start.name)) continue;
    // Iterative depth-first search: the path is the current chain of "depends on" edges.
    const path: string[] = [start.name];
    const cursors: number[] = [0];
    state.set(start.name, 'visiting');
    while (path.length > 0) {
      const name = path[path.length - 1] as string;
      const cursor = cursors[cursors.length - 1] as number;
      const next = byName.get(name)?.dependencies[cursor];
      if (next === undefined) {
        state.set(name, 'done');
        path.pop();
        cursors.pop();
        continue;
      }
      cursors[cursors.length - 1] = cursor + 1;
      if (!byName.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'visiting') {
        const cycle = path.slice(path.indexOf(next));
        return rotateToFirst(cycle, order);
      }
      if (seen === undefined) {
        state.set(next, 'visiting');
        path.push(next);
        cursors.push(0);
      }
    }
  }
  return undefined;
}

function rotateToFirst(cycle: string[], order: ReadonlyMap<string, number>): string[] {
  let startAt = 0;
  cycle.forEach((name, index) => {
    if ((order.get(name) ?? 0) < (order.get(cycle[startAt] as string) ?? 0)) startAt = index;
  });
  const rotated = [...cycle.slice(startAt), ...cycle.slice(0, startAt)];
  return [...rotated, rotated[0] as string];
}

/** `a -> b -> c -> a`. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}

/**
 * Step names so that every step comes after its dependencies; among steps ready at the same
 * time, file order wins. Throws TEMPLATE_INVALID on a cycle or an unknown dependency.
 */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const names = new Set(nodes.map((node) => node.name));
  for (const node of nodes) {
    const missing = node.dependencies.find((dependency) => !names.has(dependency));
    if (missing !== undefined) {
      throw new TaskerError('TEMPLATE_INVALID', `step "${node.name}" depends on unknown step "${missing}"`);
    }
  }
  const cycle = findCycle(nodes);
  if (cycle) throw new TaskerError('TEMPLATE_INVALID', `dependency cycle: ${formatCycle(cycle)}`);

  const placed = new Set<string>();
  const result: string[] = [];
  while (result.length < nodes.length) {
    // The first step in file order whose dependencies are all placed; one exists (acyclic).
    const next = nodes.find(
      (node) => !placed.has(node.name) && node.dependencies.every((d) => placed.has(d)),
    );
    if (!next) break;
    placed.add(next.name);
    result.push(next.name);
  }
  return result;
}

/** Steps without dependencies, in file order: the ones ready when a task starts. */
export function roots(nodes: readonly DagNode[]): string[] {
  return nodes.filter((node) => node.dependencies.length === 0).map((node) => node.name);
}

/** Steps no other step depends on, in file order: the ends of the workflow. */
export function leaves(nodes: readonly DagNode[]): string[] {
  const depended = new Set(nodes.flatMap((node) => node.dependencies));
  return nodes.filter((node) => !depended.has(node.name)).map((node) => node.name);
}

/** For each step, the steps that depend on it directly (in file order). */
export function dependents(nodes: readonly DagNode[]): Map<string, string[]> {
  const result = new Map<string, string[]>(nodes.map((node) => [node.name, []]));
  for (const node of nodes) {
    for (const dependency of node.dependencies) result.get(dependency)?.push(node.name);
  }
  return result;
}
