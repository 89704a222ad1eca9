// Configs a DEL must survive: each malformed hint, by the key it sits under. Shared by the
// handler test and the conformance test through the built forwarder.

const deep = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

export const MALFORMED_HINTS: Array<[string, 'prevResult' | 'runtimeConfig' | 'capabilities', unknown]> = [
  ['prevResult a string', 'prevResult', 'cached'],
  ['prevResult a number', 'prevResult', 42],
  ['prevResult a list', 'prevResult', []],
  ['prevResult ips not a list', 'prevResult', { cniVersion: '1.1.0', ips: 'x' }],
  ['prevResult ip that is no address', 'prevResult', { cniVersion: '1.1.0', ips: [{ address: 'notanip' }] }],
  ['prevResult route dst that is no CIDR', 'prevResult', { cniVersion: '1.1.0', routes: [{ dst: 'bad' }] }],
  ['prevResult interface without a name', 'prevResult', { cniVersion: '1.1.0', interfaces: [{}] }],
  ['prevResult nested 100 deep', 'prevResult', deep(100)],
  ['runtimeConfig a string', 'runtimeConfig', 'x'],
  ['runtimeConfig a list', 'runtimeConfig', [{ portMappings: [] }]],
  ['runtimeConfig null', 'runtimeConfig', null],
  ['runtimeConfig nested 100 deep', 'runtimeConfig', deep(100)],
  ['capabilities a string', 'capabilities', 'portMappings'],
  ['capabilities a number', 'capabilities', 7],
  ['capabilities a list', 'capabilities', ['portMappings']],
];

