import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Socket specs wait for real events on loopback; this bounds a hung one.
  testTimeout: 20_000,
  // One line for the run, not one per file, when the cluster specs' redis-server is missing.
  globalSetup: '<rootDir>/spec/support/redis-check.ts',
};

export default config;
