// Urgency of a cloud call: pods are waiting for it (an ADD blocked on an empty pool) or the
// agent cannot serve before it (start-up). Set where the reason is known (the pool manager's
// request, the agent's boot steps) and read by the rate limiters far below, through every
// provider call in between, without threading a flag through each signature.
//
// What urgency changes, and what it never does:
// - an urgent call starts before queued background calls of its bucket (priority);
// - after a throttled answer it waits what the bucket's refill allows (one token's time,
//   doubling per throttle in a row, jittered), not the long spacing a warm-target top-up gets;
// - it never waits zero, and never earlier than a server's Retry-After.
import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<boolean>();

/** Runs `fn` with the urgency given; undefined keeps the caller's. */
export function withUrgency<T>(urgent: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  return urgent === undefined ? fn() : store.run(urgent, fn);
}

/** True inside withUrgency(true, ...). */
export function isUrgent(): boolean {
  return store.getStore() === true;
}

/**
 * Spacing of an urgent call after `throttles` throttled answers in a row: one token's time of
 * the bucket (1000 / refill per second), doubling per throttle up to 8 tokens, at most `capMs`,
 * jittered to 50-100 %. Never zero.
 */
export const URGENT_MAX_TOKENS = 8;

export function urgentSpacing(tokenMs: number, throttles: number, capMs: number, random: () => number): number {
  const base = Math.max(1, tokenMs) * Math.min(URGENT_MAX_TOKENS, 2 ** Math.min(Math.max(0, throttles - 1), 16));
  const capped = Math.max(1, Math.min(base, Math.max(capMs, tokenMs)));
  return Math.max(1, Math.round(capped * (0.5 + 0.5 * random())));
}
