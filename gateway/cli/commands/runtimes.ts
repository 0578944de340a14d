/** `hearth runtimes`: what `GET /v1/runtimes` says, as a table. */
import { CliError } from '../cli-error.ts';
import { parseCommandArgs, write, type Command } from '../command.ts';
import { formatBytes } from '../format.ts';
import { formatTable } from '../table.ts';

/** One runtime as the gateway answers it (fields the CLI shows; anything else is ignored). */
interface RuntimeRow {
  name: string;
  available: boolean;
  workers: number;
  unavailableReason?: string;
  versions: Record<string, string>;
  imageSizeBytes: number | null;
  lambdaRuntimes: string[];
  defaultHandler: string;
  handlerConvention: string;
}

export const runtimesCommand: Command = {
  name: 'runtimes',
  summary: 'list the runtimes this installation has, their versions and the names a deploy may use',
  help: `Usage: hearth runtimes [--long]

Lists every runtime: whether a live worker serves it (a deploy of one that
none serves is refused), the versions its image carries, the image's size,
the Lambda runtime names a deploy may give for it (the deploy then says
which runtime it resolved to) and its default handler. Why a runtime is not
available goes to stderr.

Options:
      --long    also print how each runtime reads a handler
`,
  async run(argv, ctx) {
    const { values } = parseCommandArgs('runtimes', argv, { long: { type: 'boolean' } }, { required: [] });
    const client = await ctx.client();
    const answer = await client.json<{ workers?: unknown; runtimes?: unknown }>('GET', '/v1/runtimes');
    if (!Array.isArray(answer?.runtimes)) throw new CliError('InvalidResponse', 'the gateway answered GET /v1/runtimes without a list of runtimes');
    const runtimes = answer.runtimes as RuntimeRow[];
    const rows = runtimes.map((r) => [
      r.name,
      r.available ? `yes (${r.workers} worker${r.workers === 1 ? '' : 's'})` : 'no',
      versionsText(r.versions),
      typeof r.imageSizeBytes === 'number' ? formatBytes(r.imageSizeBytes) : '–',
      Array.isArray(r.lambdaRuntimes) ? r.lambdaRuntimes.join(' ') : '',
      r.defaultHandler,
    ]);
    write(ctx.stdout, formatTable(['RUNTIME', 'AVAILABLE', 'VERSIONS', { header: 'IMAGE', align: 'right' }, 'LAMBDA NAMES', 'DEFAULT HANDLER'], rows, { maxCellWidth: 100 }));
    if (values.long) {
      for (const r of runtimes) write(ctx.stdout, `\n${r.name} handler: ${r.handlerConvention}`);
    }
    if (answer.workers === 0) write(ctx.stderr, 'no worker has reported yet: nothing is known of this installation\'s images (deploys are not refused)');
    else for (const r of runtimes) if (!r.available && r.unavailableReason) write(ctx.stderr, `${r.name}: ${r.unavailableReason}`);
    return 0;
  },
};

/** `{ node: "20.19.2" }` → `node 20.19.2`; several joined by ", "; "–" while unknown. */
function versionsText(versions: Record<string, string> | undefined): string {
  const parts = Object.entries(versions ?? {}).map(([component, version]) => `${component} ${version}`);
  return parts.length > 0 ? parts.join(', ') : '–';
}
