// Retry and client-side rate limiting for ARM calls come from the shared cloud kit; only the
// ARM policy lives here.
import type { BackoffPolicy } from '../../kit/index.ts';

export { KeyedRateLimiter, withRetry, type BackoffPolicy, type BucketRate } from '../../kit/index.ts';

/** ARM: 250 ms doubling to 10 s, give up after 60 s (Retry-After raises each wait). */
export const DEFAULT_ARM_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 10_000, deadlineMs: 60_000 };
