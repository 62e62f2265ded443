/**
 * Handlers of the DAG examples. Every step squares or multiplies numbers that outgrow
 * 2^53 within a few steps, so values are BigInts carried between steps as decimal strings
 * (a step result must be JSON, and JSON has no BigInt).
 */
import { PermanentError, type StepContext } from 'tasker';

/** A step's result: the value so far, as a decimal string. */
interface NumberResult {
  value: string;
}

function evenNumber(ctx: StepContext): bigint {
  const n = ctx.context.even_number;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new PermanentError('context.even_number must be an integer');
  return BigInt(n);
}

function parentValues(ctx: StepContext): bigint[] {
  return Object.values(ctx.dependencyResults).map((result) => BigInt((result as NumberResult).value));
}

export const handlers = {
  /** n² of the task's even_number. */
  'Dags::SquareContext': (ctx: StepContext): NumberResult => {
    const n = evenNumber(ctx);
    return { value: (n * n).toString() };
  },
  /** The square of its single parent's value. */
  'Dags::SquareParent': (ctx: StepContext): NumberResult => {
    const [parent] = parentValues(ctx);
    if (parent === undefined) throw new PermanentError(`step ${ctx.step.name} has no parent result`);
    return { value: (parent * parent).toString() };
  },
  /** The product of all parents' values, squared. */
  'Dags::MultiplyParentsThenSquare': (ctx: StepContext): NumberResult => {
    const product = parentValues(ctx).reduce((acc, value) => acc * value, 1n);
    return { value: (product * product).toString() };
  },
};
