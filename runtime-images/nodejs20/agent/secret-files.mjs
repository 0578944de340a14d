// The function's secrets as files: at init, before its code loads, each
// secret the init message carries is written to /run/secrets/<name> (a
// tmpfs the worker mounts: the sandbox user's, 0700, noexec), mode 0400,
// and the message lets go of the values. Names were checked by the platform;
// they are checked again here, so no name can leave the directory.

import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { RuntimeFailure } from './errors.mjs';

const SECRETS_DIR = '/run/secrets';
const SECRET_FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Writes `msg.secrets` as files (none when absent) and removes them from `msg`. */
export function writeSecretFiles(msg) {
  const secrets = msg.secrets;
  delete msg.secrets;
  closeSecretsDir();
  if (secrets === undefined || secrets === null) return;
  for (const [name, value] of Object.entries(secrets)) {
    if (!SECRET_FILE_NAME.test(name) || typeof value !== 'string') {
      throw new RuntimeFailure('Runtime.InvalidSecret', `secret file name "${String(name).slice(0, 64)}" is not valid`);
    }
    const path = `${SECRETS_DIR}/${name}`;
    try {
      // `wx`: a sandbox is initialised once; a file already there was not the platform's.
      writeFileSync(path, value, { mode: 0o400, flag: 'wx' });
      chmodSync(path, 0o400);
    } catch (err) {
      throw new RuntimeFailure('Runtime.SecretFilesUnavailable', `cannot write ${path}: ${err?.code ?? 'error'}`);
    }
  }
}

/**
 * Docker copies the image's mount point mode (0755) onto the tmpfs it
 * mounts there, whatever the mount's own `mode`: the directory is the
 * sandbox user's, so it is made 0700 here, before any file is in it.
 */
function closeSecretsDir() {
  try {
    if (statSync(SECRETS_DIR).uid === process.getuid()) chmodSync(SECRETS_DIR, 0o700);
  } catch {
    /* no /run/secrets (a runtime started without the mount): nothing to close */
  }
}
