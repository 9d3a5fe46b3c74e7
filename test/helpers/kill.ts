import { spawn } from 'node:child_process';

/**
 * Run a Node script that prints "ack <value>" lines, SIGKILL it once `afterAcks` acks were seen
 * (after `delayMs`, so the kill lands at different points of its work), return the acks it printed.
 */
export async function runAndKill(script: string, args: string[], afterAcks: number, delayMs = 0): Promise<string[]> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let k: number;
      while ((k = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, k); buf = buf.slice(k + 1);
        if (line.startsWith('ack ')) acked.push(line.slice(4));
        if (acked.length === afterAcks) setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
  });
  return acked;
}
