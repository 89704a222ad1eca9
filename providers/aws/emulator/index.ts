// Public surface of the EC2 emulator.
export { AwsEmulator, type AwsEmulatorOptions, type ListenOptions } from './emulator.ts';
export type { FaultRule } from './faults.ts';
export type { ChangeEvent, EniView, InstanceView } from './model.ts';
export type { Scenario, ScenarioResult } from './scenario.ts';
export type { CreateInstanceInput, CreateSubnetInput } from './state.ts';
export { DEFAULT_BUCKETS, type BucketCategory, type BucketSpec } from './throttle.ts';
