/**
 * Everything both the start and the test command need before anything runs:
 * Docker, Postgres, Redis, the schema, the runtime images. Idempotent: on a
 * machine that already has it all, it only checks.
 *
 * CLI: `npx tsx infra/setup.ts [--no-migrate] [--with-browser] [--with-brokers] [--with-lab]
 * [--role all|gateway|worker]` (prints what it did).
 */
import { parseArgs } from 'node:util';
import { createAndMigrate } from '../migrations/database.ts';
import { ensureRuntimeImages } from '../runtime-images/build-images.ts';
import { ensureChromium } from './browser.ts';
import { ensureBrokers } from './brokers.ts';
import { ensureEgressNetwork } from '../worker/engine/egress-network.ts';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  ensureDocker,
  ensureNetnsTools,
  ensurePostgres,
  ensureRedis,
  redact,
} from './prerequisites.ts';
import { PrerequisiteError } from '../worker/common/host-binaries.ts';

export interface SetupOptions {
  databaseUrl: string;
  redisUrl: string;
  stateDir: string;
  /** Create and migrate the database in `databaseUrl` (tests make their own). */
  migrate: boolean;
  /** Install Chromium for the dashboard's browser test (`--with-browser`). */
  withBrowser?: boolean;
  /** RabbitMQ, NATS with JetStream and Mosquitto on their local ports (`--with-brokers`: the trigger tests, or triggers on brokers of this machine). */
  withBrokers?: boolean;
  /** iproute2 and nsenter for the multi-host test's network-namespace hosts (`--with-lab`). */
  withLab?: boolean;
  /**
   * `all` (one machine: everything), `gateway` (no Docker: only Postgres,
   * Redis and the schema) or `worker` (Docker, images, the egress network,
   * and reach to Postgres and Redis) — for hosts of a multi-host deployment.
   */
  role?: 'all' | 'gateway' | 'worker';
  log: (line: string) => void;
}

export function defaultStateDir(): string {
  return process.env.HEARTH_STATE_DIR ?? (process.getuid?.() === 0 ? '/var/lib/hearth' : `${process.env.HOME}/.hearth`);
}

export async function setUp(options: SetupOptions): Promise<void> {
  const { log } = options;
  if (Number(process.versions.node.split('.')[0]) < 20) {
    throw new PrerequisiteError(`Node.js 20 or later is required, this is ${process.version}`);
  }
  const role = options.role ?? 'all';
  const docker = role === 'gateway' ? null : await ensureDocker(options.stateDir, log);
  if (docker) {
    log('docker: ok');
    await ensureEgressNetwork(docker, log);
  }
  await ensurePostgres(options.databaseUrl, log);
  log(`postgres: ok (${redact(options.databaseUrl)})`);
  await ensureRedis(options.redisUrl, options.stateDir, log);
  log(`redis: ok (${redact(options.redisUrl)})`);
  if (options.withBrokers) await ensureBrokers(['amqp', 'nats', 'mqtt'], log, options.stateDir);
  if (options.withLab) await ensureNetnsTools(log);
  if (options.migrate && role !== 'worker') {
    const created = await createAndMigrate(options.databaseUrl);
    log(`schema: ${created ? 'database created and ' : ''}migrations applied`);
  }
  if (docker) await ensureRuntimeImages(docker, { log: (line) => log(`images: ${line}`) });
  if (options.withBrowser) {
    await ensureChromium(log);
    log('chromium: ok');
  }
}

/** The set-up CLI's flags, from this process's arguments; a wrong one is a usage error (exit 2). */
function setUpFlags(): { migrate: boolean; withBrowser: boolean; withBrokers: boolean; withLab: boolean; role: 'all' | 'gateway' | 'worker' } {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        'no-migrate': { type: 'boolean', default: false },
        'with-browser': { type: 'boolean', default: false },
        'with-brokers': { type: 'boolean', default: false },
        'with-lab': { type: 'boolean', default: false },
        role: { type: 'string', default: 'all' },
      },
      strict: true,
    });
    const role = values.role;
    if (role !== 'all' && role !== 'gateway' && role !== 'worker') throw new Error(`--role must be all, gateway or worker, got "${role}"`);
    return { migrate: !values['no-migrate'], withBrowser: values['with-browser'], withBrokers: values['with-brokers'], withLab: values['with-lab'], role };
  } catch (err) {
    console.error(`[hearth] ${(err as Error).message}`);
    process.exit(2);
  }
}

/** Runs `setUp` for a CLI entry point with this process's flags, turning a PrerequisiteError into a clear exit. */
export async function runSetUpCli(): Promise<void> {
  const flags = setUpFlags();
  try {
    await setUp({
      databaseUrl: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
      stateDir: defaultStateDir(),
      migrate: flags.migrate,
      withBrowser: flags.withBrowser,
      withBrokers: flags.withBrokers,
      withLab: flags.withLab,
      role: flags.role,
      log: (line) => console.log(`[hearth] ${line}`),
    });
  } catch (err) {
    if (err instanceof PrerequisiteError) {
      console.error(`[hearth] cannot continue: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runSetUpCli();
}
