// The emulator toolkit: HTTP plumbing, faults, server-side token buckets, shared admin routes, lag.
export { EmulatorHttp, MAX_BODY, readBody, readJson, resetConnection, sendJson, type Handler, type ListenOptions } from './http-server.ts';
export { FaultTable, parseFaultRule, type ActiveFault, type FaultDefaults, type FaultHit, type FaultRule } from './faults.ts';
export { ServerBuckets, type BucketSpec, type ThrottleStats } from './buckets.ts';
export { serveCommonAdmin, type AdminTarget } from './admin.ts';
export { LaggedView } from './lag.ts';
