/**
 * The provided image (Lambda's `provided.al2023`): a minimal root for any
 * custom runtime's `bootstrap`. Hearth's agent (Rust, static) at
 * /opt/hearth/agent is the entrypoint and serves the Lambda Runtime API on
 * the container's own loopback; beside it the C library and loader a
 * dynamically linked bootstrap needs (glibc, libgcc_s, libstdc++, exactly
 * as `ldd` resolves them here), busybox as /bin/sh and a set of its applets
 * (wget and nc among them, for shell bootstraps) and the CA bundle at both
 * Debian's and Amazon Linux's paths.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { aptInstall, baseEntries, hostFile, run, sharedLibraries, type PlanResult, type RootfsEntry } from '../image-rootfs.ts';
import { RUNTIMES } from '../runtimes.ts';
import { buildAgent, findCargo } from './agent-build.ts';

const BUSYBOX = '/bin/busybox';
const LIB_DIR = '/lib/x86_64-linux-gnu';
/** What a C, C++, Rust or cgo bootstrap built against glibc links; `ldd` adds what these need in turn. */
const LIBRARIES = [
  'libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libresolv.so.2', 'libutil.so.1',
  'libgcc_s.so.1', 'libstdc++.so.6',
];
/** Busybox applets linked into /bin: a shell and what shell bootstraps reach for. */
const APPLETS = [
  'sh', 'ash', 'cat', 'echo', 'printf', 'wget', 'nc', 'sed', 'grep', 'head', 'tail', 'tr', 'cut', 'awk', 'env',
  'ls', 'sleep', 'mkdir', 'rm', 'cp', 'mv', 'date', 'wc', 'sort', 'uniq', 'test', '[', 'true', 'false', 'expr',
  'base64', 'id', 'uname', 'xargs', 'basename', 'dirname', 'od', 'mktemp', 'touch', 'tee', 'seq', 'sha256sum',
];

export async function providedPlan(log: (line: string) => void): Promise<PlanResult> {
  // A fresh Debian machine has neither: Debian's own cargo (1.65, rustc 1.63) builds the agent, std only.
  let cargo = await findCargo();
  if (!cargo) {
    await aptInstall(['cargo'], 'no Rust toolchain (cargo) to compile the provided agent', log);
    cargo = await findCargo();
    if (!cargo) return { unavailable: 'no Rust toolchain (cargo) on this machine to compile the provided agent, and apt-get could not install one' };
  }
  if (!(await isStaticBusybox())) {
    await aptInstall(['busybox-static'], `${BUSYBOX} is missing or not static`, log);
    if (!(await isStaticBusybox())) return { unavailable: 'busybox-static could not be installed' };
  }
  const agent = await buildAgent(cargo, log);
  const agentInfo = await stat(agent.path);
  const libraries = LIBRARIES.map((name) => `${LIB_DIR}/${name}`).filter((path) => existsSync(path));
  const { stdout: busyboxVersion } = await run(BUSYBOX, ['--help']).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const { stdout: glibc } = await run('ldd', ['--version']);
  const entries: RootfsEntry[] = [
    { kind: 'file', path: '/opt/hearth/agent', source: agent.path, size: agentInfo.size, mode: 0o555, mtime: agentInfo.mtime },
    ...(await Promise.all([...new Set([...libraries, ...(await sharedLibraries(libraries))])].map((lib) => hostFile(lib)))),
    await hostFile(BUSYBOX),
    ...APPLETS.map((name): RootfsEntry => ({ kind: 'symlink', path: `/bin/${name}`, target: 'busybox' })),
    // usr/bin/env for `#!/usr/bin/env sh` scripts.
    { kind: 'symlink', path: '/usr/bin/env', target: '/bin/busybox' },
    // Amazon Linux's CA paths, which bootstraps built there look in.
    { kind: 'symlink', path: '/etc/pki/tls/certs/ca-bundle.crt', target: '/etc/ssl/certs/ca-certificates.crt' },
    { kind: 'symlink', path: '/etc/pki/tls/cert.pem', target: '/etc/ssl/certs/ca-certificates.crt' },
    { kind: 'dir', path: '/opt', mode: 0o755 },
    ...(await baseEntries()),
  ];
  return {
    runtime: 'provided',
    tag: RUNTIMES.provided.image,
    entries,
    entrypoint: ['/opt/hearth/agent'],
    identity: `provided agent ${agent.key}; ${busyboxVersion.split('\n')[0]?.trim()}; ${glibc.split('\n')[0]?.trim()}`,
  };
}

/** Debian's busybox-static puts a static busybox at /bin/busybox; the dynamic `busybox` package would need more libraries. */
async function isStaticBusybox(): Promise<boolean> {
  if (!existsSync(BUSYBOX)) return false;
  // ldd says "not a dynamic executable" (and exits 1) for a static binary.
  return run('ldd', [BUSYBOX]).then(
    () => false,
    () => true,
  );
}
