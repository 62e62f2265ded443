/**
 * Handlers of the order fulfillment example. The warehouse and payment provider are small
 * deterministic stand-ins, so the example runs anywhere; the flow, validation, retries and
 * events are the real thing.
 */
import { createHash } from 'node:crypto';
import { PermanentError, type StepContext } from 'tasker';

interface OrderItem {
  sku: string;
  quantity: number;
  unit_price: number;
}

interface OrderContext {
  order_id: string;
  customer_id: string;
  items: OrderItem[];
  shipping_address?: string;
}

/** Stock the stand-in warehouse holds per SKU. */
const STOCK: Record<string, number> = { 'WIDGET-1': 100, 'GADGET-2': 20, 'GIZMO-3': 5 };

function order(ctx: StepContext): OrderContext {
  return ctx.context as unknown as OrderContext;
}

function reference(prefix: string, ...parts: string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 12)}`;
}

export const handlers = {
  'Fulfillment::ValidateOrder': (ctx: StepContext) => {
    const { order_id, items } = order(ctx);
    const unknown = items.filter((item) => !(item.sku in STOCK)).map((item) => item.sku);
    if (unknown.length > 0) throw new PermanentError(`order ${order_id}: unknown SKU ${unknown.join(', ')}`);
    const total = items.reduce((sum, item) => sum + item.quantity * item.unit_price, 0);
    return { order_id, total: Math.round(total * 100) / 100, item_count: items.length };
  },

  'Fulfillment::ReserveInventory': (ctx: StepContext) => {
    const { order_id, items } = order(ctx);
    const short = items.filter((item) => (STOCK[item.sku] ?? 0) < item.quantity);
    if (short.length > 0) {
      throw new PermanentError(
        `order ${order_id}: not enough stock for ${short.map((item) => item.sku).join(', ')}`,
      );
    }
    return {
      reservation_id: reference('res', order_id),
      reserved: items.map((item) => ({ sku: item.sku, quantity: item.quantity })),
    };
  },

  'Fulfillment::ProcessPayment': (ctx: StepContext) => {
    const { order_id, customer_id } = order(ctx);
    const { total } = ctx.dependencyResults.validate_order as { total: number };
    const payment_id = reference('pay', order_id, customer_id, String(ctx.step.attempt));
    ctx.publishEvent('order.paid', { order_id, payment_id, amount: total });
    return { payment_id, amount: total, status: 'captured' };
  },

  'Fulfillment::ShipOrder': (ctx: StepContext) => {
    const { order_id } = order(ctx);
    const tracking_number = reference('trk', order_id).toUpperCase();
    ctx.publishEvent('order.shipped', { order_id, tracking_number });
    return { tracking_number, carrier: 'demo-carrier' };
  },
};
