/** Progress on stderr: a redrawn bar with rate and ETA on a TTY, a plain line every few seconds otherwise. */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

export function progress(label: string, total: number, already: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = !!stream.isTTY;
  const start = Date.now();
  let count = already;
  let lastLine = 0;
  const render = (final: boolean) => {
    const secs = (Date.now() - start) / 1000;
    const rate = (count - already) / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (total - count) / rate : Infinity;
    const pct = total === 0 ? 100 : (100 * count) / total;
    const stats = `${count}/${total} ${pct.toFixed(1)}% ${rate.toFixed(1)}/s ETA ${final ? "0s" : duration(eta)}`;
    if (tty) {
      const width = 30;
      const fill = Math.round((width * pct) / 100);
      stream.write(`\r${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${stats}\x1b[K${final ? "\n" : ""}`);
    } else stream.write(`${label}: ${stats}\n`);
  };
  return {
    tick(n = 1) {
      count += n;
      const now = Date.now();
      if (tty ? now - lastLine >= 100 : now - lastLine >= 5000) {
        lastLine = now;
        render(false);
      }
    },
    done() {
      render(true);
    },
  };
}
