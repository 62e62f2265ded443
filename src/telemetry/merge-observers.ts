/**
 * Combines observers made of optional hook methods (OrchestrationObserver, StepObserver) into
 * one that calls each in turn, so telemetry and a caller's own observer can both listen.
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
  const merged: Record<string, (...args: unknown[]) => void> = {};
  for (const [name, list] of hooks) {
    merged[name] = (...args) => {
      for (const hook of list) hook(...args);
    };
  }
  return merged as T;
}
