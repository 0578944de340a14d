/**
 * The message brokers queue and stream triggers read, on one machine:
 * RabbitMQ (127.0.0.1:5672), NATS with JetStream (127.0.0.1:4222) and
 * Mosquitto (127.0.0.1:1883), for the test suite and `setup --with-brokers`.
 * In production these are the users' brokers, not Hearth's. As with
 * Postgres and Redis (`prerequisites.ts`): use what answers, and only when
 * the local port is silent install the Debian package and start it in the
 * background; anything else stops set-up with a sentence saying what is
 * missing. Each check speaks the broker's own protocol (an AMQP header, a
 * JetStream API request, an MQTT CONNECT), so a port taken by something
 * else, or a NATS server without JetStream, is told apart from a broker.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binaryPath, PrerequisiteError } from '../worker/common/host-binaries.ts';
import { aptInstall } from './prerequisites.ts';

const run = promisify(execFile);

export type Broker = 'amqp' | 'nats' | 'mqtt';
type Log = (line: string) => void;

/** Where the tests and a one-machine set-up find each broker. */
export const DEFAULT_BROKER_URLS: Record<Broker, string> = {
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
  mqtt: 'mqtt://127.0.0.1:1883',
};

/** What a probe found: the broker, nothing listening (`silent`: ours to start), or something that will not do. */
export type ProbeAnswer = { ok: true; note?: string } | { ok: false; silent: boolean; reason: string };

const PROBE_TIMEOUT_MS = 3000;
const MAX_PROBE_BYTES = 64 * 1024;

/**
 * Connects to 127.0.0.1:`port`, sends `hello` (if any), and feeds what comes
 * back to `judge` until it decides (it may `send` more: NATS speaks first).
 */
function probe(
  port: number,
  hello: Buffer | null,
  judge: (received: Buffer, send: (bytes: string | Buffer) => void) => ProbeAnswer | undefined,
): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (answer: ProbeAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ ok: false, silent: false, reason: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
    socket.on('connect', () => {
      if (hello) socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      if (received.length < MAX_PROBE_BYTES) received = Buffer.concat([received, chunk]);
      const answer = judge(received, (bytes) => socket.write(bytes));
      if (answer) finish(answer);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, silent: err.code === 'ECONNREFUSED', reason: err.message }));
    socket.on('close', () => finish({ ok: false, silent: false, reason: 'it closed the connection without a valid answer' }));
  });
}

/** RabbitMQ answers the AMQP 0-9-1 protocol header with connection.start (class 10, method 10) on channel 0. */
function probeAmqp(port: number): Promise<ProbeAnswer> {
  return probe(port, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), (got) => {
    if (got.length < 11) return undefined;
    if (got[0] === 1 && got.readUInt16BE(1) === 0 && got.readUInt32BE(7) === 0x000a000a) return { ok: true };
    if (got.subarray(0, 4).toString('latin1') === 'AMQP') return { ok: false, silent: false, reason: 'it speaks another AMQP version' };
    return { ok: false, silent: false, reason: 'it does not speak AMQP 0-9-1' };
  });
}

/**
 * NATS sends INFO first; then a JetStream API request ($JS.API.INFO) must
 * get an account-info reply. A server without JetStream has no responder
 * for it (or answers with an error), which is what the triggers need.
 */
function probeNats(port: number): Promise<ProbeAnswer> {
  const inbox = `_INBOX.hearth-probe-${process.pid}`;
  let asked = false;
  return probe(port, null, (got, send) => {
    const text = got.toString('utf8');
    if (!asked) {
      const line = /^INFO\s+(\{.*\})\s*\r\n/.exec(text);
      if (!line) return text.includes('\r\n') || text.length > 4096 ? { ok: false, silent: false, reason: 'it does not speak NATS' } : undefined;
      let info: { jetstream?: boolean };
      try {
        info = JSON.parse(line[1]!);
      } catch {
        return { ok: false, silent: false, reason: 'its NATS INFO is not JSON' };
      }
      if (!info.jetstream) return { ok: false, silent: false, reason: 'it runs without JetStream' };
      asked = true;
      send(`CONNECT {"verbose":false,"pedantic":false,"name":"hearth-setup-probe"}\r\nSUB ${inbox} 1\r\nPUB $JS.API.INFO ${inbox} 0\r\n\r\n`);
      return undefined;
    }
    const error = /-ERR '?([^'\r\n]*)'?\r\n/.exec(text);
    if (error) return { ok: false, silent: false, reason: `it refused the check (${error[1]})` };
    const message = new RegExp(`MSG ${inbox.replace(/[.]/g, '\\.')} 1 (\\d+)\\r\\n`).exec(text);
    if (!message) return undefined;
    const start = message.index + message[0].length;
    const payload = got.subarray(Buffer.byteLength(text.slice(0, start)));
    if (payload.length < Number(message[1])) return undefined;
    try {
      const reply = JSON.parse(payload.subarray(0, Number(message[1])).toString('utf8')) as { error?: { description?: string } };
      return reply.error ? { ok: false, silent: false, reason: `JetStream answered: ${reply.error.description ?? 'error'}` } : { ok: true };
    } catch {
      return { ok: false, silent: false, reason: 'its JetStream reply is not JSON' };
    }
  });
}

/** Mosquitto answers an MQTT 3.1.1 CONNECT with CONNACK; one that refuses anonymous clients still answers. */
function probeMqtt(port: number): Promise<ProbeAnswer> {
  const id = Buffer.from(`hearth-probe-${process.pid}`);
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a]);
  const connectPacket = Buffer.concat([Buffer.from([0x10, variable.length + 2 + id.length]), variable, Buffer.from([0, id.length]), id]);
  return probe(port, connectPacket, (got, send) => {
    if (got.length < 4) return undefined;
    if (got[0] !== 0x20 || got[1] !== 0x02) return { ok: false, silent: false, reason: 'it does not speak MQTT' };
    send(Buffer.from([0xe0, 0x00]));
    return got[3] === 0 ? { ok: true } : { ok: true, note: `it refuses anonymous clients (CONNACK ${got[3]}); the tests connect without credentials` };
  });
}

/** Checks the broker on its default local port (or `port`), speaking its protocol. */
export function probeBroker(which: Broker, port = Number(new URL(DEFAULT_BROKER_URLS[which]).port)): Promise<ProbeAnswer> {
  return which === 'amqp' ? probeAmqp(port) : which === 'nats' ? probeNats(port) : probeMqtt(port);
}

const isRoot = () => process.getuid?.() === 0;
const detail = (err: unknown) =>
  (err as { stderr?: string }).stderr?.trim().split('\n').slice(-2).join(' ') || (err as Error).message;

/** Starts a program detached, its output appended to `logPath`; a spawn failure is logged, the wait then says it did not answer. */
function spawnDetached(binary: string, args: string[], logPath: string, log: Log): void {
  const out = openSync(logPath, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out] });
  child.on('error', (err) => log(`could not start ${binary}: ${err.message}`));
  child.unref();
}

interface BrokerSpec {
  label: string;
  port: number;
  pkg: string;
  binary: string;
  /** How long a fresh start may take to answer (RabbitMQ boots an Erlang node). */
  startMs: number;
  /** Starts it in the background; returns where to look when it does not answer. */
  start(stateDir: string, log: Log): Promise<string>;
}

const SPECS: Record<Broker, BrokerSpec> = {
  amqp: {
    label: 'RabbitMQ', port: 5672, pkg: 'rabbitmq-server', binary: 'rabbitmq-server', startMs: 120_000,
    async start(_stateDir, log) {
      if (!isRoot()) {
        throw new PrerequisiteError('RabbitMQ is installed but not running, and only root can start it: run `sudo service rabbitmq-server start`');
      }
      // The service script runs it as the rabbitmq user and waits for the node to boot.
      const script = '/etc/init.d/rabbitmq-server';
      if (existsSync(script)) {
        log(`starting RabbitMQ (${script} start)`);
        await run(script, ['start'], { timeout: 150_000 }).catch((err) => log(`rabbitmq: ${script} said: ${detail(err)}`));
      } else {
        log('starting RabbitMQ (rabbitmq-server -detached)');
        await run(binaryPath('rabbitmq-server')!, ['-detached'], { timeout: 30_000 }).catch((err) => log(`rabbitmq: ${detail(err)}`));
      }
      return '/var/log/rabbitmq/';
    },
  },
  nats: {
    label: 'NATS with JetStream', port: 4222, pkg: 'nats-server', binary: 'nats-server', startMs: 20_000,
    async start(stateDir, log) {
      const dir = join(stateDir, 'nats');
      mkdirSync(join(dir, 'jetstream'), { recursive: true });
      log(`starting nats-server with JetStream in the background (state in ${dir})`);
      spawnDetached(binaryPath('nats-server')!, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', join(dir, 'jetstream')], join(dir, 'nats-server.log'), log);
      return join(dir, 'nats-server.log');
    },
  },
  mqtt: {
    label: 'Mosquitto', port: 1883, pkg: 'mosquitto', binary: 'mosquitto', startMs: 20_000,
    async start(stateDir, log) {
      const dir = join(stateDir, 'mosquitto');
      mkdirSync(dir, { recursive: true });
      // Run as root, mosquitto drops to the mosquitto user, which can write the package's own data directory.
      const data = isRoot() && existsSync('/var/lib/mosquitto') ? '/var/lib/mosquitto' : dir;
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(conf, [
        '# Written by Hearth set-up (infra/brokers.ts): a local broker for MQTT triggers and the tests.',
        'listener 1883 127.0.0.1',
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${data}/`,
        `log_dest file ${join(data, 'mosquitto.log')}`,
        ...(isRoot() && data === dir ? ['user root'] : []),
        '',
      ].join('\n'));
      log(`starting mosquitto in the background (${conf})`);
      await run(binaryPath('mosquitto')!, ['-d', '-c', conf], { timeout: 15_000 }).catch((err) => log(`mosquitto: ${detail(err)}`));
      return join(data, 'mosquitto.log');
    },
  },
};

async function answersWithin(which: Broker, ms: number): Promise<ProbeAnswer> {
  const until = Date.now() + ms;
  let answer = await probeBroker(which);
  while (!answer.ok && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    answer = await probeBroker(which);
  }
  return answer;
}

/** Why what answers on a broker's port will not do, and what to do about it. */
function refusal(which: Broker, spec: BrokerSpec, reason: string): PrerequisiteError {
  const fix = which === 'nats'
    ? "restart it with `-js -sd <dir>` (for Debian's nats-server service, add `jetstream { store_dir: <a directory the nats user can write> }` to /etc/nats-server.conf), or stop it so set-up can start one"
    : 'stop it, or free the port';
  return new PrerequisiteError(`${spec.label} is needed on 127.0.0.1:${spec.port}, but what answers there will not do (${reason}): ${fix}`);
}

/** One broker: answers already, or installed (if missing) and started; else a PrerequisiteError that names what is missing. */
async function ensureBroker(which: Broker, stateDir: string, log: Log): Promise<void> {
  const spec = SPECS[which];
  const where = `127.0.0.1:${spec.port}`;
  let answer = await probeBroker(which);
  if (!answer.ok && answer.silent && !binaryPath(spec.binary)) {
    await aptInstall([spec.pkg], log, `nothing answers on ${where} and ${spec.label} is not installed`);
    // The package's own scripts may have started it (on a systemd host), perhaps not as the triggers need it.
    answer = await probeBroker(which);
  }
  if (!answer.ok && !answer.silent) throw refusal(which, spec, answer.reason);
  if (!answer.ok) {
    const logPath = await spec.start(stateDir, log);
    answer = await answersWithin(which, spec.startMs);
    if (!answer.ok) throw new PrerequisiteError(`${spec.label} did not answer on ${where} within ${spec.startMs / 1000} s (${answer.reason}); see ${logPath}`);
  }
  if (answer.note) log(`${which}: warning: ${answer.note}`);
  log(`${which}: ok (${spec.label} on ${where})`);
}

function defaultStateDir(): string {
  return process.env.HEARTH_STATE_DIR ?? (isRoot() ? '/var/lib/hearth' : `${process.env.HOME}/.hearth`);
}

/**
 * Makes sure each broker in `which` answers on its default local port,
 * installing (Debian packages, needs root and apt-get) and starting what is
 * silent, one after the other. Started brokers keep their state under
 * `stateDir` (NATS, Mosquitto when not root) or the package's directories.
 */
export async function ensureBrokers(which: readonly Broker[], log: Log, stateDir = defaultStateDir()): Promise<void> {
  for (const broker of new Set(which)) await ensureBroker(broker, stateDir, log);
}
