import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every file, against real Docker, Redis, Postgres and brokers.
 *
 * Two files run at a time: a file mostly waits on containers, brokers and
 * timers, so one at a time left the second core idle for most of the run.
 * Files that measure the machine itself (a /healthz stall bound, idle CPU,
 * process memory, a wall-clock bound on a parser), change what every
 * platform of the run shares (the trigger chaos run restarts RabbitMQ; the
 * secrets key rotation re-seals every row of the run's database) or count
 * a whole worker's memory (every worker of the run provisions every
 * file's minWarm versions: the database is shared) run alone, first: on a
 * database no other file has left minWarm versions in yet.
 */
const SERIAL = [
  'test/faults/chaos-triggers-short.test.ts',
  'test/e2e/secrets.test.ts',
  'test/integration/warm-pool.test.ts',
  'test/security/provisioned-share.test.ts',
  'test/security/event-stall.test.ts',
  'test/security/hostile-tenant.test.ts',
  'test/security/idle-cpu.test.ts',
  'test/security/lambda-door.test.ts',
  'test/security/throttle-polling.test.ts',
  'test/security/upload-memory.test.ts',
  'test/unit/cli-ignore.test.ts',
  'test/unit/lambda-code-body.test.ts',
  'test/unit/multipart-parser.test.ts',
  'test/unit/schedule-expression.test.ts',
];

/**
 * The longest files of the parallel part, started first so that none of
 * them begins last and runs alone. Vitest orders by the durations it cached
 * from an earlier run; a clean clone has none (it would order by size).
 */
const LONG_FIRST = [
  // Its own stack (Redis, Postgres, a gateway and two workers as processes): nothing of the run's is touched.
  'test/faults/chaos-short.test.ts',
  // Hosts of its own (network namespaces, a dockerd each, worker and gateway processes): ~90 s.
  'test/e2e/multi-host.test.ts',
  // Three minutes of mixed load on its own stack (processes), every accepted call matched to one record.
  'test/faults/soak-short.test.ts',
  // A Redis master, replica and three Sentinels of its own; the master killed, then frozen, mid-load: ~60 s.
  'test/integration/redis-sentinel-failover.test.ts',
  // A million records written, then partitioned under a live writer and reader: ~40 s.
  'test/integration/partition-migration.test.ts',
  'test/e2e/cli-triggers.test.ts',
  'test/integration/schedule-runner.test.ts',
  'test/e2e/triggers-schedules.test.ts',
  'test/integration/schedule-recovery.test.ts',
  'test/security/queued-calls.test.ts',
  'test/integration/multi-worker.test.ts',
  'test/e2e/triggers-sources.test.ts',
  'test/e2e/cli-rollout.test.ts',
  'test/e2e/cli-function-life.test.ts',
  'test/e2e/cli-aliases.test.ts',
  'test/integration/nats-source.test.ts',
  'test/e2e/dashboard-triggers.test.ts',
];

class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = LONG_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return at === -1 ? LONG_FIRST.length : at;
    };
    const order = (spec: TestSpecification) => spec.project.config.sequence.groupOrder;
    // Array.prototype.sort is stable: within a rank, the order Vitest chose stays.
    return sorted.sort((a, b) => order(a) - order(b) || rank(a) - rank(b));
  }
}

/** What every project shares (not through `extends`: that would run the global set-up once per project). */
const shared = {
  testTimeout: 30_000,
  hookTimeout: 120_000,
  sequence: { sequencer: LongFirstSequencer },
};

export default defineConfig({
  test: {
    // Once for the whole run (root project): one database, the images, the brokers.
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
    maxWorkers: 2,
    sequence: { sequencer: LongFirstSequencer },
    projects: [
      {
        test: {
          ...shared,
          name: 'services',
          include: ['test/{e2e,integration,security,faults}/**/*.test.ts'],
          exclude: SERIAL,
          maxWorkers: 2,
          sequence: { ...shared.sequence, groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: SERIAL,
          maxWorkers: 2,
          sequence: { ...shared.sequence, groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          name: 'api',
          include: ['test/api/**/*.test.ts'],
          // As in vitest.fast.config.ts: API tests build their gateway over
          // fresh fakes (no module state), so their files share one module graph.
          isolate: false,
          maxWorkers: 2,
          sequence: { ...shared.sequence, groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          name: 'serial',
          include: SERIAL,
          maxWorkers: 1,
          // Not 0: Vitest runs a one-worker project of group 0 after every other group.
          sequence: { ...shared.sequence, groupOrder: 1 },
        },
      },
    ],
  },
});
