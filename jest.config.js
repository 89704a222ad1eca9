// Tests are TypeScript run as ESM; swc strips types (Node 24 runs the same files natively).
// One jest project per test tier, and the tier is the folder: test/<tier>/**/*.test.ts.
// `npm run test:<tier>` selects one (`--selectProjects <tier>`); docs/testing.md says what each
// tier may need. A *.test.ts outside these folders runs nowhere: test/run-all.ts refuses it.
export const TIERS = ['unit', 'contract', 'integration', 'privileged'];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2024', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
    ],
  },
  testPathIgnorePatterns: ['/node_modules/', '/build/'],
};

export default {
  testTimeout: 30000,
  projects: TIERS.map((tier) => ({
    ...shared,
    displayName: tier,
    rootDir: import.meta.dirname,
    testMatch: [`<rootDir>/test/${tier}/**/*.test.ts`],
  })),
};
