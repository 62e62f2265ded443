/**
 * Combines observers made of optional hook methods (OrchestrationObserver, StepObserver) into
 * one that calls each in turn, so telemetry and a caller's own observer can both listen. A hook
 * that answers (StepObserver.traceParent) answers with the first observer's defined answer.
 */
export function mergeObservers<T extends object>(...observers: ReadonlyArray<T | undefined>): T | undefined {
  const present = observers.filter((observer): observer is T => observer !== undefined);
  if (present.length <= 1) return present[0];
  const hooks = new Map<string, Array<(...args: unknown[]) => unknown>>();
  for (const observer of present) {
    for (const [name, value] of Object.entries(observer)) {
      if (typeof value !== 'function') continue;
      const list = hooks.get(name) ?? [];
      list.push((value as (...args: unknown[]) => unknown).bind(observer));
      hooks.set(name, list);
    }
  }
  const merged: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, list] of hooks) {
    merged[name] = (...args) => {
      let answer: unknown;
      for (const hook of list) {
        const result = hook(...args);
        if (answer === undefined) answer = result;
      }
      return answer;
    };
  }
  return merged as T;
}
