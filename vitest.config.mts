import { defineConfig } from 'vitest/config'

// Tests that start the real stack (the launcher with PM2 workers, their own PostgreSQL or Redis) and
// then kill, freeze or reload parts of it, or measure latency under load. They run after the
// in-process tests, two at a time, so their timing bounds hold on a 2-core machine.
const SYSTEM_TESTS = [
  'apps/api/test/faults/**/*.test.ts',
  'apps/api/test/cli/**/*.test.ts',
  'apps/api/test/routes/upload/upload-under-load.test.ts',
  'packages/loadtest/test/e2e.test.ts',
  'packages/bench/test/smoke.test.ts'
]

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'app',
          include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          exclude: SYSTEM_TESTS,
          // Each test file gets its own database and Redis key prefix, so files run in parallel; most
          // of their time is spent waiting on PostgreSQL, Redis and child processes, not on the CPU.
          maxWorkers: 3,
          // A worker keeps the modules it imported (the app and its dependencies) for its next file.
          isolate: false,
          sequence: { groupOrder: 0 }
        }
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: SYSTEM_TESTS,
          maxWorkers: 2,
          sequence: { groupOrder: 1 }
        }
      }
    ]
  }
})
