/** `npm stop`: drains and stops the gateway and worker started by `npm start`. */
import { stopProcess } from './processes.ts';
import { defaultStateDir } from './setup.ts';

const stateDir = defaultStateDir();
for (const name of ['gateway', 'worker'] as const) {
  const stopped = await stopProcess(stateDir, name);
  console.log(`[hearth] ${name}: ${stopped ? 'stopped' : 'was not running'}`);
}
