// Public surface of the simulated-VPC lab (tests, benchmarks, demo).
export { INTERNET_IP, Lab, netnsPath, type LabNicSpec, type LabNode, type LabOptions } from './lab.ts';
export { fabricNicsFromCloud, publicIpsOf, subnetGateway, type CloudNicLike, type FabricNic, type FabricState } from './fabric-state.ts';
export { createScenario, podAddresses, type Scenario, type ScenarioNode } from './scenario.ts';
