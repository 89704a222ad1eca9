export { AzureEmulator, type AzureEmulatorOptions, type ListenOptions } from './emulator.ts';
export { DEFAULT_SCENARIO, parseScenario, type Scenario, type ScenarioResult } from './scenario.ts';
export { stateSnapshot } from './admin.ts';
export type { ChangeEvent } from './state.ts';
