/** Upload progress on stderr: one line redrawn in place on a terminal, a line per quarter otherwise. */
import { formatBytes } from './format.ts';
import type { ProgressListener } from './multipart-upload.ts';

/** Uploads smaller than this finish too fast for progress to mean anything. */
const PROGRESS_MIN_BYTES = 1024 * 1024;

const REDRAW_MS = 100;

export function progressReporter(stderr: NodeJS.WritableStream & { isTTY?: boolean }): ProgressListener {
  let lastDraw = 0;
  let lastQuarter = 0;
  return (sent, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    const percent = Math.floor((sent / total) * 100);
    const text = `uploading ${formatBytes(sent)} / ${formatBytes(total)} (${percent}%)`;
    if (stderr.isTTY) {
      const now = Date.now();
      if (sent < total && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      stderr.write(`\r\u001b[2K${text}${sent === total ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(percent / 25);
    if (sent === 0 || quarter > lastQuarter) {
      lastQuarter = quarter;
      stderr.write(`${text}\n`);
    }
  };
}
