/**
 * Read buffers for the destination side of the gateway's connections, reused from one connection
 * to the next.
 *
 * Why: by default a Node socket allocates a fresh 64 KiB buffer for every read (and copies a short
 * read into a right-sized one). At proxy rates that was most of the gateway's garbage, and the GC
 * pauses it caused showed up as tail latency. With `net.connect({ onread })` the kernel reads into
 * one buffer per connection instead, taken from this pool.
 *
 * Safety rules, kept by gateway.ts:
 * - the relay forwards only the bytes just read into the buffer (`subarray(0, n)`), never older
 *   contents, and reads again only once the client socket has taken every byte written from it
 *   (so a pending write never sees its bytes overwritten);
 * - a buffer is given back only after both sockets of its connection are destroyed (their file
 *   descriptors closed, so no read or write in flight can touch it);
 * - a pool belongs to one gateway, that is to one tenant; buffers start zero-filled.
 */
export class ReadBufferPool {
  readonly size: number;
  private readonly max: number;
  private readonly free: Buffer[] = [];

  /** `size` bytes per buffer; at most `max` idle buffers are kept (the rest are left to the GC). */
  constructor(size: number, max: number) {
    this.size = size;
    this.max = max;
  }

  take(): Buffer {
    return this.free.pop() ?? Buffer.alloc(this.size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.max && buffer.length === this.size) this.free.push(buffer);
  }
}
