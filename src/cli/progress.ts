/** A progress bar on a terminal (stderr); silent when stderr is not a TTY (logs, CI). */
export function progress(label: string, stream: NodeJS.WriteStream): { update(done: number, total: number): void; done(): void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      if (!tty || total < 50_000) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const w = 30;
      const f = Math.min(w, Math.round((done / total) * w));
      stream.write(`\r${label} [${'█'.repeat(f)}${'░'.repeat(w - f)}] ${Math.floor((100 * done) / total)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
