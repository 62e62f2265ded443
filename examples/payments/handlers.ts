/**
 * The payments example of spec 2.2–2.4: `charge_card` charges a card and publishes
 * `payment.charged`; `handle_failure` publishes `payment.failed` when the charge was declined.
 * Subscribers: a notifier, an audit log for every `payment.#` event, and an alert for failures.
 *
 * The card processor is a deterministic stand-in: a card token starting with `tok_declined`
 * is declined, `tok_flaky` fails once with a network error (the step retries), any other
 * token is charged.
 *
 * Events are published and read through ./events.generated.ts (`tasker codegen
 * examples/payments/templates --out examples/payments/events.generated.ts`), so a misspelt
 * event name or payload field is a compile error.
 */
import { createHash } from 'node:crypto';
import type { DeliveryContext, DomainEvent, StepContext, SubscriberDefinition } from 'tasker';
import { isEvent, typedPublisher } from './events.generated.js';

interface PaymentContext {
  payment_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  card_token: string;
}

interface ChargeResult {
  charged: boolean;
  payment_id: string;
  authorization?: string;
  error_code?: string;
  error_message?: string;
}

function payment(ctx: StepContext): PaymentContext {
  return ctx.context as unknown as PaymentContext;
}

export const handlers = {
  'Payments::ChargeCardHandler': (ctx: StepContext): ChargeResult => {
    const { payment_id, customer_id, amount, currency, card_token } = payment(ctx);
    if (card_token.startsWith('tok_flaky') && ctx.step.attempt === 1) {
      throw new Error('card processor timed out; retrying');
    }
    if (card_token.startsWith('tok_declined')) {
      return {
        charged: false,
        payment_id,
        error_code: 'card_declined',
        error_message: 'The card was declined',
      };
    }
    const authorization = `auth_${createHash('sha256').update(`${payment_id}|${card_token}`).digest('hex').slice(0, 10)}`;
    const publish = typedPublisher(ctx, 'payments/process_payment/charge_card');
    publish('payment.charged', { payment_id, amount, currency, customer_id });
    return { charged: true, payment_id, authorization };
  },

  'Payments::HandleFailureHandler': (ctx: StepContext) => {
    const charge = ctx.dependencyResults.charge_card as ChargeResult;
    if (charge.charged) return { action: 'none' };
    const publish = typedPublisher(ctx, 'payments/process_payment/handle_failure');
    publish('payment.failed', {
      payment_id: charge.payment_id,
      error_code: charge.error_code ?? 'unknown',
      error_message: charge.error_message ?? '',
    });
    return { action: 'customer_notified', error_code: charge.error_code };
  },
};

/** What the subscribers did, so the demo can show it. */
export const delivered: Array<{ subscriber: string; event: string; payment_id: string; delivery: string }> =
  [];

function record(subscriber: string, event: DomainEvent, delivery: string, line: string): void {
  // Every payments event carries a payment_id.
  const { payment_id } = event.payload as { payment_id: string };
  delivered.push({ subscriber, event: event.name, payment_id, delivery });
  console.log(`    ← ${subscriber.padEnd(13)} ${event.name.padEnd(15)} ${line} [${delivery}]`);
}

export const subscribers: SubscriberDefinition[] = [
  {
    id: 'payments.notifier',
    pattern: 'payment.charged',
    handle: (event) => {
      if (!isEvent(event, 'payment.charged')) return;
      const { payment_id, amount, currency } = event.payload;
      record(
        'notifier',
        event,
        'fire_and_forget',
        `told the customer: ${payment_id} charged ${amount} ${currency}`,
      );
    },
  },
  {
    id: 'payments.audit_log',
    pattern: 'payment.#',
    handle: (event) =>
      record('audit_log', event, 'fire_and_forget', `recorded ${event.id} at ${event.metadata.fired_at}`),
  },
  {
    id: 'payments.failure_alert',
    pattern: 'payment.failed',
    delivery: 'durable',
    handle: (event: DomainEvent, ctx?: DeliveryContext) => {
      if (!isEvent(event, 'payment.failed')) return;
      const { payment_id, error_code } = event.payload;
      record(
        'failure_alert',
        event,
        ctx?.delivery ?? 'durable',
        `paged on-call: ${payment_id} ${error_code}`,
      );
    },
  },
];
