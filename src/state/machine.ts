/**
 * A state machine as data: states, labelled edges, descriptions. The task and step machines
 * are built from it, and the documentation is rendered from the same data. Pure.
 */
import { TaskerError } from '../errors.js';

/** One allowed transition out of a state, labelled with the event that causes it. */
export interface Edge<S extends string, E extends string> {
  readonly event: E;
  readonly to: S;
}

/** What a machine is made of. */
export interface StateMachineDefinition<S extends string, E extends string> {
  /** `task` or `step`: used in messages and documentation. */
  readonly subject: string;
  /** Every state, in the order documentation lists them. */
  readonly states: readonly S[];
  /** The state every instance starts in. */
  readonly initial: S;
  /** For every state, the edges leaving it (none for terminal states). */
  readonly transitions: Readonly<Record<S, readonly Edge<S, E>[]>>;
  /** What each state means, in a sentence or three. */
  readonly stateDescriptions: Readonly<Record<S, string>>;
  /** What causes each event. */
  readonly eventDescriptions: Readonly<Record<E, string>>;
}

/** A machine's data plus the questions asked of it. */
export interface StateMachine<S extends string, E extends string> extends StateMachineDefinition<S, E> {
  /** True when an edge leads from `from` to `to`. */
  canTransition(from: S, to: S): boolean;
  /** The edge from `from` to `to`; throws STATE_CONFLICT naming both otherwise. `subject` names the instance. */
  assertTransition(from: S, to: S, subject?: string): Edge<S, E>;
  /** True when no edge leaves `state`. */
  isTerminal(state: S): boolean;
  /** The edges leaving `state`. */
  transitionsFrom(state: S): readonly Edge<S, E>[];
  /** True when `value` is one of the machine's states (for values read from storage). */
  isState(value: unknown): value is S;
}

/** Builds a machine from its definition, checking that every edge leads to a known state. */
export function defineStateMachine<S extends string, E extends string>(
  definition: StateMachineDefinition<S, E>,
): StateMachine<S, E> {
  const known = new Set<string>(definition.states);
  for (const state of definition.states) {
    for (const edge of definition.transitions[state]) {
      if (!known.has(edge.to))
        throw new Error(`${definition.subject} machine: edge to unknown state ${edge.to}`);
    }
  }
  const edgesFrom = (state: S): readonly Edge<S, E>[] =>
    known.has(state) ? definition.transitions[state] : [];

  return {
    ...definition,
    canTransition: (from, to) => edgesFrom(from).some((edge) => edge.to === to),
    assertTransition(from, to, subject = definition.subject) {
      const edge = edgesFrom(from).find((candidate) => candidate.to === to);
      if (edge) return edge;
      const allowed = edgesFrom(from).map((candidate) => candidate.to);
      const why = !known.has(from)
        ? `${from} is not a ${definition.subject} state`
        : allowed.length === 0
          ? `${from} is terminal`
          : `from ${from} it may go to ${allowed.join(', ')}`;
      throw new TaskerError('STATE_CONFLICT', `${subject} cannot go from ${from} to ${to} (${why})`);
    },
    isTerminal: (state) => known.has(state) && definition.transitions[state].length === 0,
    transitionsFrom: edgesFrom,
    isState: (value): value is S => typeof value === 'string' && known.has(value),
  };
}
