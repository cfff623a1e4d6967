import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Socket specs wait for real events on loopback; this bounds a hung one.
  testTimeout: 20_000,
};

export default config;
