/**
 * Once per test run: a fresh database with the schema applied, and the
 * runtime images present. Each test file then starts its own gateway and
 * worker against it with a queue prefix of its own (see helpers/platform.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { TestProject } from 'vitest/node';
import { createAndMigrate, dropDatabase } from '../migrations/database.ts';
import { ensureEgressNetwork } from '../worker/engine/egress-network.ts';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../infra/prerequisites.ts';
import { ensureRuntimeImages } from '../runtime-images/build-images.ts';
import { ensureBrokers } from '../infra/brokers.ts';
import { writeKeyFile } from '../worker/common/secret-keyring.ts';
import { generateKeyText } from '../worker/common/secret-sealing.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    /** The secrets key ring every platform of the run shares, as it shares the database (created by the first to open it). */
    secretsKeyFile: string;
  }
}

export default async function setup(project: TestProject) {
  const server = process.env.TEST_DATABASE_SERVER_URL ?? new URL('/', DEFAULT_DATABASE_URL).toString().replace(/\/$/, '');
  const databaseUrl = `${server}/hearth_test_${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  await createAndMigrate(databaseUrl);
  const docker = new Dockerode();
  await ensureRuntimeImages(docker);
  // Once per run (not per test file): the network and firewall egress sandboxes need.
  await ensureEgressNetwork(docker, () => {});
  // The trigger tests read real brokers: RabbitMQ, NATS with JetStream, Mosquitto.
  await ensureBrokers(['amqp', 'nats', 'mqtt'], (line) => console.log(`[global-setup] ${line}`));
  // Every platform of the run reads every other's rows (one database), so all seal with one key ring.
  const keyDir = await mkdtemp(join(tmpdir(), 'hearth-test-keys-'));
  writeKeyFile(join(keyDir, 'secrets-key'), [generateKeyText()]);
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('secretsKeyFile', join(keyDir, 'secrets-key'));
  return async () => {
    await dropDatabase(databaseUrl);
    await rm(keyDir, { recursive: true, force: true });
  };
}
