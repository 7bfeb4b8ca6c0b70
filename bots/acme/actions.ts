/**
 * Custom actions of the Acme Store demo bot.
 *
 * A flow calls an action with a `call:` step:
 *
 *   - call: lookupOrder
 *     args: { orderId: slots.order_id }
 *     result: order            # the returned JSON is stored in vars.order
 *     onError: [...]           # taken when the action throws or times out
 *
 * Every exported function here is an action: (args, ctx) => JSON. Keep helpers unexported.
 *
 * Conventions worth copying:
 *  - Expected business outcomes ("no such order", "already shipped") are normal results with
 *    a flag and a machine-readable `reason`, so flows can branch on them. Only real failures
 *    (the backend is down) throw; the flow's `onError:` branch handles those.
 *  - Results carry ready-to-display fields (labels, item lists) so templates stay simple.
 *  - Results never echo personal data the customer did not give us (no email, no street address).
 *
 * This demo reads data/orders.json and never writes it: cancellations, address changes and
 * returns live in an in-memory overlay that is lost when the process restarts.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ActionContext } from '../../src/conversation/actions';

// ------------------------------------------------------------------ demo data

interface Address {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  region: string;
  postcode: string;
  country: string;
}

interface Item {
  sku: string;
  name: string;
  variant?: string;
  qty: number;
  price: number;
}

type Status = 'processing' | 'shipped' | 'delivered' | 'cancelled' | 'returned' | 'return_started';

interface Order {
  id: string;
  email: string;
  customer: string;
  status: Status;
  placedAt: string;
  shippedAt?: string;
  eta?: string;
  deliveredAt?: string;
  cancelledAt?: string;
  returnedAt?: string;
  cancelReason?: string;
  carrier?: string;
  tracking?: string;
  rma?: string;
  items: Item[];
  shipping: number;
  total: number;
  refund?: { amount: number; issuedAt: string; method: string };
  payment: string;
  address: Address | string;
}

interface OrdersFile {
  asOf: string;
  orders: Order[];
}

const DAY_MS = 86_400_000;
const RETURN_WINDOW_DAYS = 30;
const CURRENCY = 'USD';

const ORDER_ID = /^([A-Z]{2})[-\s]?(\d{6})$/;

/** Today as 'YYYY-MM-DD' (UTC). */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function dayNumber(isoDate: string): number {
  return Math.round(Date.parse(`${isoDate.slice(0, 10)}T00:00:00Z`) / DAY_MS);
}

function addDays(isoDate: string, days: number): string {
  return new Date((dayNumber(isoDate) + days) * DAY_MS).toISOString().slice(0, 10);
}

const DATE_FIELDS = ['placedAt', 'shippedAt', 'eta', 'deliveredAt', 'cancelledAt', 'returnedAt'] as const;

let data: Map<string, Order> | null = null;

/** Load orders.json once and shift its dates so that its `asOf` day is today. */
function orders(): Map<string, Order> {
  if (data) return data;
  const file = path.join(__dirname, 'data', 'orders.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as OrdersFile;
  const shift = dayNumber(today()) - dayNumber(raw.asOf);
  data = new Map();
  for (const o of raw.orders) {
    const copy: Order = { ...o, items: o.items.map((i) => ({ ...i })) };
    for (const f of DATE_FIELDS) if (copy[f]) copy[f] = addDays(copy[f]!, shift);
    if (copy.refund) copy.refund = { ...copy.refund, issuedAt: addDays(copy.refund.issuedAt, shift) };
    data.set(copy.id, copy);
  }
  return data;
}

/** Changes made during this process's lifetime (the demo data file is never written). */
const overlay = new Map<string, Partial<Order>>();

function normalizeOrderId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = ORDER_ID.exec(value.trim().toUpperCase());
  return m ? `${m[1]}-${m[2]}` : null;
}

function findOrder(orderId: unknown): Order | null {
  const id = normalizeOrderId(orderId);
  if (!id) return null;
  const base = orders().get(id);
  if (!base) return null;
  return { ...base, ...(overlay.get(id) ?? {}) };
}

function update(id: string, change: Partial<Order>) {
  overlay.set(id, { ...(overlay.get(id) ?? {}), ...change });
}

// ------------------------------------------------------------------ display helpers

const STATUS_LABELS: Record<Status, string> = {
  processing: 'being prepared in our warehouse',
  shipped: 'on its way',
  delivered: 'delivered',
  cancelled: 'cancelled',
  returned: 'returned and refunded',
  return_started: 'being returned',
};

function trackingUrl(carrier: string | undefined, tracking: string | undefined): string | null {
  if (!carrier || !tracking) return null;
  const t = encodeURIComponent(tracking);
  if (/^ups/i.test(carrier)) return `https://www.ups.com/track?tracknum=${t}`;
  if (/^fedex/i.test(carrier)) return `https://www.fedex.com/fedextrack/?trknbr=${t}`;
  if (/^usps/i.test(carrier)) return `https://tools.usps.com/go/TrackConfirmAction?tLabels=${t}`;
  if (/^dhl/i.test(carrier)) return `https://www.dhl.com/en/express/tracking.html?AWB=${t}`;
  return null;
}

function itemLine(i: Item): string {
  return `${i.qty > 1 ? `${i.qty} × ` : ''}${i.name}${i.variant ? ` (${i.variant})` : ''}`;
}

function daysSince(isoDate: string | undefined): number | null {
  return isoDate ? dayNumber(today()) - dayNumber(isoDate) : null;
}

function returnDeadline(o: Order): string | null {
  return o.deliveredAt ? addDays(o.deliveredAt, RETURN_WINDOW_DAYS) : null;
}

function canReturn(o: Order): boolean {
  const d = daysSince(o.deliveredAt);
  return o.status === 'delivered' && d !== null && d <= RETURN_WINDOW_DAYS;
}

function shipTo(a: Address | string): string {
  if (typeof a === 'string') return a;
  return `${a.city}, ${a.region}${a.country !== 'US' ? `, ${a.country}` : ''}`;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

// ------------------------------------------------------------------ actions

/**
 * Look an order up by its number. Unknown numbers are a normal answer (`found: false`),
 * not an error. ZZ-999999 simulates the order system being down (the flow's onError branch).
 */
export async function lookupOrder(args: { orderId?: unknown }, ctx: ActionContext) {
  if (args.orderId === 'ZZ-999999') {
    await wait(20, ctx.signal);
    throw new Error('order service unavailable (simulated outage for ZZ-999999)');
  }
  const o = findOrder(args.orderId);
  if (!o) return { found: false, orderId: normalizeOrderId(args.orderId) ?? String(args.orderId ?? '') };
  const url = trackingUrl(o.carrier, o.tracking);
  return {
    found: true,
    orderId: o.id,
    status: o.status,
    statusLabel: STATUS_LABELS[o.status],
    placedAt: o.placedAt,
    shippedAt: o.shippedAt ?? null,
    eta: o.eta ?? null,
    deliveredAt: o.deliveredAt ?? null,
    cancelledAt: o.cancelledAt ?? null,
    carrier: o.carrier ?? null,
    tracking: o.tracking ?? null,
    trackingUrl: url,
    items: o.items.map((i) => ({ name: i.name, variant: i.variant ?? null, qty: i.qty, price: i.price })),
    itemLines: o.items.map(itemLine),
    itemCount: o.items.reduce((n, i) => n + i.qty, 0),
    total: o.total,
    currency: CURRENCY,
    shipTo: shipTo(o.address),
    rma: o.rma ?? null,
    refund: o.refund ?? null,
    canCancel: o.status === 'processing',
    canChangeAddress: o.status === 'processing',
    canReturn: canReturn(o),
    returnBy: o.status === 'delivered' ? returnDeadline(o) : null,
  };
}

/** Cancel an order that has not left the warehouse yet. */
export async function cancelOrder(args: { orderId?: unknown }, ctx: ActionContext) {
  const o = findOrder(args.orderId);
  if (!o) return { cancelled: false, reason: 'not_found' };
  const refusal: Partial<Record<Status, string>> = {
    shipped: 'already_shipped',
    delivered: 'already_delivered',
    cancelled: 'already_cancelled',
    returned: 'already_returned',
    return_started: 'already_returned',
  };
  if (o.status !== 'processing') {
    return { cancelled: false, reason: refusal[o.status] ?? 'not_open', status: o.status, carrier: o.carrier ?? null, tracking: o.tracking ?? null, canReturn: canReturn(o) };
  }
  const now = today();
  update(o.id, { status: 'cancelled', cancelledAt: now, refund: { amount: o.total, issuedAt: now, method: o.payment } });
  ctx.log.info('order cancelled', { conversationId: ctx.conversationId, orderId: o.id });
  return { cancelled: true, orderId: o.id, refundAmount: o.total, currency: CURRENCY, refundMethod: o.payment, refundDays: '3–5 business days' };
}

/** Change the delivery address of an order that has not shipped yet. */
export async function changeAddress(args: { orderId?: unknown; address?: unknown }, ctx: ActionContext) {
  const o = findOrder(args.orderId);
  if (!o) return { changed: false, reason: 'not_found' };
  const address = typeof args.address === 'string' ? args.address.trim().replace(/\s+/g, ' ') : '';
  if (address.length < 10 || !/\d/.test(address)) return { changed: false, reason: 'incomplete_address', address };
  if (o.status === 'shipped') return { changed: false, reason: 'already_shipped', status: o.status, carrier: o.carrier ?? null, tracking: o.tracking ?? null, trackingUrl: trackingUrl(o.carrier, o.tracking) };
  if (o.status !== 'processing') return { changed: false, reason: 'not_open', status: o.status, statusLabel: STATUS_LABELS[o.status] };
  update(o.id, { address });
  ctx.log.info('delivery address changed', { conversationId: ctx.conversationId, orderId: o.id });
  return { changed: true, orderId: o.id, address, eta: o.eta ?? null };
}

const RETURN_REASONS: Record<string, string> = {
  wrong_size: 'Wrong size or fit',
  damaged: 'Arrived damaged or faulty',
  not_as_described: 'Not as described',
  changed_mind: 'Changed my mind',
  other: 'Other',
};

/**
 * Open a return (RMA) for a delivered order within the 30-day window.
 * Idempotent: asking again for the same order gives the same RMA.
 */
export async function startReturn(args: { orderId?: unknown; reason?: unknown }, ctx: ActionContext) {
  const o = findOrder(args.orderId);
  if (!o) return { ok: false, reason: 'not_found' };
  const reasonCode = typeof args.reason === 'string' && RETURN_REASONS[args.reason] ? args.reason : 'other';
  const rma = `RMA-${o.id.replace('-', '')}`;
  const label = {
    rma,
    orderId: o.id,
    labelUrl: `https://acme.example/returns/${rma}/label.pdf`,
    dropOff: 'any UPS Store or UPS Access Point',
    shipBy: addDays(today(), 14),
    refundAmount: o.total - o.shipping,
    currency: CURRENCY,
    refundMethod: o.payment,
    freeLabel: true,
    reasonLabel: RETURN_REASONS[reasonCode],
  };
  if (o.status === 'return_started') return { ok: true, existing: true, ...label };
  if (o.status === 'returned') return { ok: false, reason: 'already_returned', status: o.status, rma: o.rma ?? null };
  if (o.status === 'cancelled') return { ok: false, reason: 'cancelled', status: o.status };
  if (o.status !== 'delivered') {
    return { ok: false, reason: 'not_delivered', status: o.status, statusLabel: STATUS_LABELS[o.status], eta: o.eta ?? null, canCancel: o.status === 'processing' };
  }
  const days = daysSince(o.deliveredAt)!;
  if (days > RETURN_WINDOW_DAYS) {
    return { ok: false, reason: 'outside_window', status: o.status, deliveredAt: o.deliveredAt ?? null, daysSinceDelivery: days, returnWindowDays: RETURN_WINDOW_DAYS };
  }
  update(o.id, { status: 'return_started', rma });
  ctx.log.info('return started', { conversationId: ctx.conversationId, orderId: o.id, rma, reason: reasonCode });
  return { ok: true, existing: false, ...label };
}

/**
 * Send a password-reset link. Always answers `sent: true` so that the bot never reveals
 * whether an email address has an account.
 */
export async function sendPasswordReset(args: { email?: unknown }, ctx: ActionContext) {
  const email = typeof args.email === 'string' ? args.email.trim().toLowerCase() : '';
  const masked = email.replace(/^(.)[^@]*(@.*)$/, '$1***$2');
  ctx.log.info('password reset requested', { conversationId: ctx.conversationId, email: masked });
  return { sent: true, expiresInMinutes: 30 };
}

const feedback: { at: string; conversationId: string; rating: number; comment: string | null }[] = [];

/** Store a satisfaction rating (1–5) and an optional comment. */
export async function recordFeedback(args: { rating?: unknown; comment?: unknown }, ctx: ActionContext) {
  const rating = typeof args.rating === 'number' ? Math.round(args.rating) : Number(args.rating);
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new Error(`rating must be a whole number from 1 to 5, got ${JSON.stringify(args.rating)}`);
  const comment = typeof args.comment === 'string' && args.comment.trim() ? args.comment.trim().slice(0, 1000) : null;
  feedback.push({ at: new Date().toISOString(), conversationId: ctx.conversationId, rating, comment });
  ctx.log.info('feedback recorded', { conversationId: ctx.conversationId, rating, hasComment: comment !== null });
  return { recorded: true, reference: `FB-${String(feedback.length).padStart(5, '0')}`, rating, hasComment: comment !== null };
}
