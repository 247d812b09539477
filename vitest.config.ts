import { defineConfig } from 'vitest/config';

// Unit and integration tests run in Node against real files (models/, assets/, ../shared, temp dirs).
export default defineConfig({
  test: {
    include: [
      'renderer/src/**/*.test.ts',
      'electron/**/*.test.ts',
      'cli/**/*.test.ts',
      'tests/unit/**/*.test.ts',
      'tests/integration/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
