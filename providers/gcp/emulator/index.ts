export { GcpEmulator, type GcpEmulatorOptions } from './emulator.ts';
export { DEFAULT_SCENARIO, parseScenario, type Scenario, type ScenarioResult } from './scenario.ts';
export type { ChangeEvent } from './state.ts';
export { stateSnapshot } from './admin.ts';
