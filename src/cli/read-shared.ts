/** Read a file into a SharedArrayBuffer, so worker threads can read it without a copy. */
import * as fs from 'node:fs';

export function readShared(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const out = new Uint8Array(new SharedArrayBuffer(size));
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, out, off, Math.min(size - off, 64 << 20), off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? out : out.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}
