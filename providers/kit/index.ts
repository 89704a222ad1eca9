// The shared cloud kit (docs/cloud-kit.md): what every provider and emulator uses besides its
// wire protocol. Pure modules on the Clock; the emulator toolkit is in ./emulator/.
export { backoffCeiling, backoffDelay, DEFAULT_BACKOFF, parseRetryAfter, retryDelay, withRetry } from './retry.ts';
export type { Backoff, BackoffPolicy, RetryExhausted, RetryOptions } from './retry.ts';
export { pollUntil, type PollOptions } from './poll.ts';
export { KeyedRateLimiter, TokenBucket, type BucketRate } from './rate-limit.ts';
export { classifyCode, classifyHttpStatus, classifyTransport, isAmbiguous, isRetryableClass, type ErrorClass } from './classify.ts';
export { AddressSpace, type AddressSpaceOptions, type Pick } from './allocator.ts';
export { isUrgent, urgentSpacing, withUrgency } from './urgency.ts';
