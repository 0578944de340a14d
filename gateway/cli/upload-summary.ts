/** What `hearth deploy` tells the user about the package: what it left out, and for `--dry-run` everything it would send. */
import type { DeploySource } from './deploy-source.ts';
import { formatBytes } from './format.ts';
import { formatTable } from './table.ts';
import { escapeCell } from './terminal-text.ts';

/** How many left-out paths the one-line summary names before "and N more". */
export const EXCLUDED_SHOWN = 8;

/** Paths are the user's own, never cut short in a listing. */
const PATH_WIDTH = 4096;

/**
 * File names may hold newlines or escapes: each path is shown as a table cell would be.
 *
 * `left out 3 paths (default exclusions, .hearthignore): .env, .git/, key.pem`,
 * naming the first few when there are many; '' when nothing was left out.
 */
export function excludedLine(excluded: readonly string[], usedIgnoreFile: boolean): string {
  if (excluded.length === 0) return '';
  const shown = excluded.slice(0, EXCLUDED_SHOWN).map(escapeCell).join(', ');
  const more = excluded.length > EXCLUDED_SHOWN ? ` and ${excluded.length - EXCLUDED_SHOWN} more (hearth deploy --dry-run lists them all)` : '';
  const why = usedIgnoreFile ? 'default exclusions, .hearthignore' : 'default exclusions; a .hearthignore can change them';
  return `left out ${plural(excluded.length, 'path')} (${why}): ${shown}${more}`;
}

/** `6 files and 1 symlink` */
export function contentsLabel(source: Pick<DeploySource, 'fileCount' | 'symlinks'>): string {
  const links = source.symlinks > 0 ? ` and ${plural(source.symlinks, 'symlink')}` : '';
  return `${plural(source.fileCount, 'file')}${links}`;
}

/**
 * The `--dry-run` report: every file and link with its size, the total, and
 * every path left out. `deploying` names the function, runtime and handler.
 */
export function dryRunReport(source: DeploySource, deploying: string): string {
  const rows: string[][] = [];
  let total = 0;
  for (const entry of source.entries) {
    if (entry.kind === 'file') {
      rows.push([formatBytes(entry.size), entry.path]);
      total += entry.size;
    } else if (entry.kind === 'symlink') {
      rows.push(['–', `${entry.path} -> ${entry.target}`]);
    }
  }
  const lines = [
    `would deploy ${deploying}`,
    formatTable([{ header: 'SIZE', align: 'right' }, 'PATH'], rows, { maxCellWidth: PATH_WIDTH }).trimEnd(),
    `total ${formatBytes(total)} in ${contentsLabel(source)}${source.kind === 'folder' ? `, ${formatBytes(source.data.length)} zipped` : ''}`,
  ];
  if (source.excluded.length > 0) {
    lines.push(`left out ${plural(source.excluded.length, 'path')}:`);
    for (const path of source.excluded) lines.push(`  ${escapeCell(path)}`);
  }
  lines.push('dry run: nothing uploaded');
  return lines.join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
