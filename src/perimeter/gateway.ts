/**
 * The per-tenant egress gateway: the only way out of a cell.
 *
 * An HTTP/1.1 forward proxy (RFC 9110 9.3.6 CONNECT; RFC 9112 3.2.2 absolute-form) listening on
 * one Unix socket per cell (the socket path is the cell's identity: a cell cannot claim to be
 * another) and optionally on loopback TCP for operator tools.
 *
 * Order of work per connection, each step able to refuse:
 *   read head (size + time bounded) -> strict parse (http-head.ts) -> kill switch -> allowlist ->
 *   budgets -> resolve (injectable) -> address rule on EVERY answer (policy.ts) -> AWAIT audit
 *   (decision) -> dial the checked address, never the name -> relay with byte accounting ->
 *   AWAIT audit (outcome).
 * The address checked is the address dialled: the name is resolved once, here, and the socket is
 * opened to that IP literal, so DNS rebinding between check and use has nothing to rebind.
 *
 * Absolute-form (plain http://) requests go through the same policy: one request per client
 * connection, hop-by-hop headers removed, `Connection: close` forced, Content-Length bodies only
 * (Transfer-Encoding is refused with 501), so there is no second request on the connection that
 * could be smuggled past the policy.
 * If the audit callback rejects, the connection is refused (fail closed).
 */
import { createServer, connect as netConnect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, unlinkSync, lstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SiosError } from '../errors.ts';
import { isMapped, parseIp } from './address.ts';
import type { IpAddress } from './address.ts';
import { checkAddress, compilePolicy, matchDestination } from './policy.ts';
import type { CompiledPolicy, EgressPolicy } from './policy.ts';
import { parseRequestHead } from './http-head.ts';
import { ReadBufferPool } from './read-buffers.ts';
import type { HeadError, RequestHead } from './http-head.ts';
import type { AuditSink, EgressAttemptEvent, EgressEnd } from './events.ts';

/** Resolve a DNS name to IP address strings. Injectable so tests can simulate rebinding. */
export type Resolver = (name: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS if the site has any). */
export const systemResolver: Resolver = async (name) =>
  (await lookup(name, { all: true, order: 'verbatim' })).map((a) => a.address);

export interface GatewayLimits {
  /** Largest request head accepted (request line + headers). */
  readonly maxHeaderBytes: number;
  /** Time allowed for the whole head to arrive (slowloris defence). */
  readonly headerTimeoutMs: number;
  readonly resolveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** An established connection with no traffic either way for this long is cut. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = Object.freeze({
  maxHeaderBytes: 8192,
  headerTimeoutMs: 5_000,
  resolveTimeoutMs: 5_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
});

export interface GatewayOptions {
  readonly policy: EgressPolicy | CompiledPolicy;
  readonly audit: AuditSink;
  readonly resolver?: Resolver;
  readonly limits?: Partial<GatewayLimits>;
  /** Called when an outcome event could not be audited (the connection already happened). */
  readonly onAuditFailure?: (error: unknown, event: EgressAttemptEvent) => void;
}

export interface CellBinding {
  readonly cell: string;
  readonly skill: string;
}

export interface GatewayStats {
  readonly active: number;
  readonly killed: boolean;
  readonly windowConnections: number;
  readonly windowBytes: number;
}

/** A socket to the destination (or through the upstream proxy), connected and paused. */
interface Opened {
  readonly sock: Socket;
  /** Bytes the upstream proxy sent after its CONNECT answer (a copy). */
  readonly early: Buffer;
  /** Where the bytes read into the connection's read buffer go from now on; false stops reading. */
  readonly setReader: (reader: (n: number) => boolean) => void;
}

interface Conn {
  readonly id: string;
  readonly binding: CellBinding;
  readonly client: Socket;
  readonly t0: number;
  upstream: Socket | undefined;
  /** What the destination socket reads into (read-buffers.ts); back to the pool in finish(). */
  readBuffer: Buffer | undefined;
  destination: string;
  resolved: string;
  mode: EgressAttemptEvent['mode'];
  rule: string;
  bytesUp: number;
  bytesDown: number;
  allowed: boolean;
  end: EgressEnd | undefined;
  finished: boolean;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 405: 'Method Not Allowed', 408: 'Request Timeout', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/**
 * Bytes per destination read. Larger than Node's default 64 KiB: on a fast path one read (and one
 * write on to the client) then moves up to four loopback-sized segments; on the 1 MB responses of
 * bench/perimeter.ts that cost the gateway about a tenth less CPU per megabyte than 64 KiB reads.
 */
const READ_BUFFER_BYTES = 256 * 1024;
/** Idle read buffers kept per gateway (more are allocated while more connections are open). */
const READ_BUFFERS_KEPT = 16;
const KNOWN_OPTIONS = ['policy', 'audit', 'resolver', 'limits', 'onAuditFailure'];

function now(): string {
  return new Date().toISOString();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new SiosError('ERR_EGRESS', `${what} timed out after ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class EgressGateway {
  readonly tenant: string;
  private readonly policy: CompiledPolicy;
  private readonly audit: AuditSink;
  private readonly resolver: Resolver;
  private readonly limits: GatewayLimits;
  private readonly onAuditFailure: ((error: unknown, event: EgressAttemptEvent) => void) | undefined;
  private readonly servers = new Map<Server, string | undefined>();
  private readonly conns = new Set<Conn>();
  private readonly readBuffers: ReadBufferPool;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private seq = 0;
  private killed = false;
  private closed = false;
  private allowedActive = 0;
  private windowStart = 0;
  private windowConns = 0;
  private windowBytes = 0;

  constructor(options: GatewayOptions) {
    for (const k of Object.keys(options)) {
      if (!KNOWN_OPTIONS.includes(k)) throw new SiosError('ERR_INPUT', `EgressGateway: unknown option "${k}"; known options are ${KNOWN_OPTIONS.join(', ')}`);
    }
    if (typeof options.audit !== 'function') throw new SiosError('ERR_INPUT', 'EgressGateway: an audit callback is required (the gateway never runs unaudited)');
    this.policy = 'matchers' in options.policy ? options.policy : compilePolicy(options.policy);
    this.tenant = this.policy.tenant;
    this.audit = options.audit;
    this.resolver = options.resolver ?? systemResolver;
    this.limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    this.readBuffers = new ReadBufferPool(READ_BUFFER_BYTES, Math.min(this.policy.budgets.maxConcurrent, READ_BUFFERS_KEPT));
    this.onAuditFailure = options.onAuditFailure;
  }

  /**
   * Listen on a Unix socket dedicated to one cell. `owner` (uid/gid) makes the socket connectable
   * by that user only (mode 0600); used when cells run under a separate host uid.
   */
  async listenUnix(binding: CellBinding & { readonly path: string; readonly owner?: { readonly uid: number; readonly gid: number } }): Promise<string> {
    this.assertOpen();
    const server = this.makeServer(binding);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(binding.path, () => { server.off('error', reject); resolve(); });
    });
    this.servers.set(server, binding.path);
    chmodSync(binding.path, 0o600);
    if (binding.owner) chownSync(binding.path, binding.owner.uid, binding.owner.gid);
    return binding.path;
  }

  /** Listen on loopback TCP (127.0.0.1 or ::1 only); returns the bound port. */
  async listenTcp(binding: CellBinding & { readonly host: '127.0.0.1' | '::1'; readonly port: number }): Promise<number> {
    this.assertOpen();
    if (binding.host !== '127.0.0.1' && binding.host !== '::1') {
      throw new SiosError('ERR_INPUT', 'the egress gateway listens on loopback only (127.0.0.1 or ::1); cells reach it through their Unix socket');
    }
    const server = this.makeServer(binding);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: binding.host, port: binding.port, exclusive: true }, () => { server.off('error', reject); resolve(); });
    });
    this.servers.set(server, undefined);
    const a = server.address();
    if (a === null || typeof a === 'string') throw new SiosError('ERR_INTERNAL', 'loopback listener has no port');
    return a.port;
  }

  /** Stop listening on one cell's socket (existing connections of that cell are destroyed). */
  async closeCell(cell: string): Promise<void> {
    for (const c of this.conns) if (c.binding.cell === cell) this.destroyConn(c, 'closed');
    const closing: Promise<void>[] = [];
    for (const [server, path] of this.servers) {
      if ((server as Server & { sios?: CellBinding }).sios?.cell !== cell) continue;
      this.servers.delete(server);
      closing.push(new Promise((r) => server.close(() => r())));
      if (path) safeUnlink(path);
    }
    await Promise.all(closing);
  }

  /**
   * Kill switch: refuse all new egress and destroy every existing connection at once (before the
   * audit is awaited: cutting must not wait on the ledger). Returns the number destroyed.
   */
  async kill(reason: string): Promise<number> {
    this.killed = true;
    let n = 0;
    for (const c of [...this.conns]) { n++; this.destroyConn(c, 'killed'); }
    await this.audit({ type: 'egress-kill', tenant: this.tenant, engaged: true, destroyed: n, reason, time: now() });
    return n;
  }

  /** Lift the kill switch (audited first: if the audit fails, the switch stays engaged). */
  async restore(reason: string): Promise<void> {
    await this.audit({ type: 'egress-kill', tenant: this.tenant, engaged: false, destroyed: 0, reason, time: now() });
    this.killed = false;
  }

  stats(): GatewayStats {
    this.rollWindow();
    return { active: this.allowedActive, killed: this.killed, windowConnections: this.windowConns, windowBytes: this.windowBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.conns]) this.destroyConn(c, 'closed');
    const closing: Promise<void>[] = [];
    for (const [server, path] of this.servers) {
      closing.push(new Promise((r) => server.close(() => r())));
      if (path) safeUnlink(path);
    }
    this.servers.clear();
    await Promise.all(closing);
  }

  // ---------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new SiosError('ERR_CLOSED', 'the egress gateway was closed; create a new one');
  }

  private makeServer(binding: CellBinding): Server {
    const b: CellBinding = { cell: binding.cell, skill: binding.skill };
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (sock) => this.onClient(sock, b));
    (server as Server & { sios?: CellBinding }).sios = b;
    server.on('error', () => { /* listener errors surface through listen(); later ones close the server */ });
    return server;
  }

  private rollWindow(): void {
    const t = performance.now();
    if (t - this.windowStart >= this.policy.budgets.windowMs) { this.windowStart = t; this.windowConns = 0; this.windowBytes = 0; }
  }

  private onClient(sock: Socket, binding: CellBinding): void {
    const conn: Conn = {
      id: `${this.idPrefix}-${++this.seq}`, binding, client: sock, t0: performance.now(), upstream: undefined, readBuffer: undefined,
      destination: '', resolved: '', mode: 'malformed', rule: '', bytesUp: 0, bytesDown: 0, allowed: false, end: undefined, finished: false,
    };
    this.conns.add(conn);
    sock.on('error', () => { /* the close handler below records the end */ });
    sock.on('close', () => { if (!conn.allowed) this.conns.delete(conn); });
    // A killed gateway still reads the (bounded) head before refusing: the refusal record then names
    // the destination, and a client never loses the answer to a reset while it is still writing.
    const chunks: Buffer[] = [];
    let len = 0;
    const timer = setTimeout(() => {
      sock.off('data', onData);
      void this.refuse(conn, 408, 'header-timeout', `request head not complete within ${this.limits.headerTimeoutMs} ms`);
    }, this.limits.headerTimeoutMs);
    const onData = (chunk: Buffer): void => {
      const from = Math.max(0, len - 3);
      chunks.push(chunk);
      len += chunk.length;
      const all = chunks.length === 1 ? chunk : Buffer.concat(chunks, len);
      if (chunks.length > 1) { chunks.length = 0; chunks.push(all); }
      const idx = all.indexOf(CRLFCRLF, from);
      if (idx < 0 ? len > this.limits.maxHeaderBytes : idx + 4 > this.limits.maxHeaderBytes) {
        clearTimeout(timer);
        sock.off('data', onData);
        void this.refuse(conn, 431, 'header-too-large', `request head exceeds ${this.limits.maxHeaderBytes} bytes`);
        return;
      }
      if (idx < 0) return;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.pause();
      const head = all.subarray(0, idx).toString('latin1');
      const rest = all.subarray(idx + 4);
      void this.handle(conn, head, rest).catch((e: unknown) => {
        void this.refuse(conn, 502, 'internal', e instanceof SiosError ? e.message : 'internal gateway error');
      });
    };
    sock.on('data', onData);
  }

  private event(conn: Conn, phase: 'decision' | 'outcome', verdict: 'allowed' | 'refused', reason: string, detail: string): EgressAttemptEvent {
    const base = {
      type: 'egress-attempt' as const, phase, tenant: this.tenant, cell: conn.binding.cell, skill: conn.binding.skill, connection: conn.id,
      destination: conn.destination, resolvedAddress: conn.resolved, mode: conn.mode, rule: conn.rule,
      upstream: this.policy.upstream?.name ?? '', bytesUp: conn.bytesUp, bytesDown: conn.bytesDown,
      durationMs: Math.round((performance.now() - conn.t0) * 1000) / 1000, verdict, reason, detail, time: now(),
    };
    return conn.end === undefined ? base : { ...base, end: conn.end };
  }

  /** Record a refusal (awaited), then answer the client and close. Never throws. */
  private async refuse(conn: Conn, status: number, reason: string, detail: string): Promise<void> {
    if (conn.finished) return;
    conn.finished = true;
    try { await this.audit(this.event(conn, 'decision', 'refused', reason, detail)); } catch { /* refused either way */ }
    const body = `sios egress gateway: ${detail}\n`;
    const sock = conn.client;
    if (sock.destroyed || !sock.writable) { sock.destroy(); return; }
    sock.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\nX-Sios-Reason: ${reason}\r\n\r\n${body}`,
      () => sock.destroy(),
    );
    const t = setTimeout(() => sock.destroy(), 2_000);
    t.unref();
  }

  private async handle(conn: Conn, headText: string, rest: Buffer): Promise<void> {
    const parsed = parseRequestHead(headText);
    if ('error' in parsed) {
      const e: HeadError = parsed;
      if (e.destination !== undefined) conn.destination = e.destination;
      return this.refuse(conn, e.status, e.error, e.detail);
    }
    const req: RequestHead = parsed;
    conn.mode = req.mode;
    conn.destination = `${req.host.type === 'ip' && req.host.ip.family === 6 ? `[${req.host.ip.text}]` : req.host.type === 'ip' ? req.host.ip.text : req.host.name}:${req.port}`;
    if (this.killed) return this.refuse(conn, 503, 'kill-switch', 'egress for this tenant is stopped by the operator kill switch');
    const rule = matchDestination(this.policy, req.host, req.port);
    if (rule === undefined) return this.refuse(conn, 403, 'not-allowlisted', `${conn.destination} is not in tenant ${this.tenant}'s egress allowlist; an operator can add it to the policy`);
    conn.rule = rule;
    this.rollWindow();
    const b = this.policy.budgets;
    if (this.allowedActive >= b.maxConcurrent) return this.refuse(conn, 429, 'budget-concurrency', `tenant ${this.tenant} already has ${b.maxConcurrent} egress connections open`);
    if (this.windowConns >= b.maxConnectionsPerWindow) return this.refuse(conn, 429, 'budget-connections', `tenant ${this.tenant} used its ${b.maxConnectionsPerWindow} connections for this ${b.windowMs} ms window`);
    if (this.windowBytes >= b.maxBytesPerWindow) return this.refuse(conn, 429, 'budget-bytes', `tenant ${this.tenant} used its ${b.maxBytesPerWindow} bytes for this ${b.windowMs} ms window`);

    // Resolve and check. With an upstream that resolves, the name is passed on unresolved.
    const up = this.policy.upstream;
    let dialHost: string;
    let family: 4 | 6 | 0 = 0;
    if (up && up.resolveVia === 'upstream' && req.host.type === 'name') {
      dialHost = req.host.name;
    } else {
      // An IP literal was parsed (to its canonical form) with the head; resolver answers are parsed here.
      let answers: ReadonlyArray<IpAddress | undefined>;
      if (req.host.type === 'ip') answers = [req.host.ip];
      else {
        let names: readonly string[];
        try { names = await withTimeout(this.resolver(req.host.name), this.limits.resolveTimeoutMs, `resolving ${req.host.name}`); }
        catch { return this.refuse(conn, 502, 'resolve-failed', `could not resolve ${req.host.name}`); }
        answers = names.map((a) => (typeof a === 'string' ? parseIp(a) : undefined));
      }
      if (answers.length === 0) return this.refuse(conn, 502, 'resolve-failed', `${conn.destination} has no address`);
      let chosen: IpAddress | undefined;
      for (const ip of answers) {
        if (!ip) return this.refuse(conn, 502, 'resolver-bad-answer', 'the resolver returned something that is not an IP address');
        // An IPv4-mapped answer is dialled as the IPv4 address it denotes (the one checked).
        const dial = isMapped(ip) ? (parseIp(`${ip.bytes[12]}.${ip.bytes[13]}.${ip.bytes[14]}.${ip.bytes[15]}`) as IpAddress) : ip;
        const v = checkAddress(this.policy, dial);
        // Any forbidden answer refuses the name: mixed answers are how rebinding attacks start.
        if (!v.ok) { conn.resolved = dial.text; return this.refuse(conn, 403, `address-${v.kind}`, v.reason); }
        if (chosen === undefined) { chosen = dial; if (v.via === 'internal-range' && v.range) conn.rule = `${rule} via ${v.range}`; }
      }
      const c = chosen as IpAddress;
      conn.resolved = c.text;
      dialHost = c.text;
      family = c.family;
    }
    if (this.killed) return this.refuse(conn, 503, 'kill-switch', 'egress for this tenant is stopped by the operator kill switch');

    // Sign-before-run: the decision is sealed before any packet leaves.
    conn.allowed = true;
    this.allowedActive++;
    this.windowConns++;
    try {
      await this.audit(this.event(conn, 'decision', 'allowed', 'allowlisted', `admitted by ${conn.rule}`));
    } catch {
      conn.allowed = false;
      this.allowedActive--;
      this.conns.delete(conn);
      conn.finished = true;
      return this.answerAndClose(conn.client, 503, 'audit-unavailable', 'the audit record could not be sealed, so the connection is refused (fail closed); check the ledger');
    }
    if (this.killed || conn.client.destroyed) { conn.end = 'killed'; return this.finish(conn); }
    await this.dial(conn, req, dialHost, family, rest);
  }

  private answerAndClose(sock: Socket, status: number, reason: string, detail: string): void {
    const body = `sios egress gateway: ${detail}\n`;
    if (sock.destroyed) return;
    sock.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nX-Sios-Reason: ${reason}\r\n\r\n${body}`, () => sock.destroy());
  }

  private async dial(conn: Conn, req: RequestHead, host: string, family: 4 | 6 | 0, rest: Buffer): Promise<void> {
    const up = this.policy.upstream;
    const target = family === 6 ? `[${host}]:${req.port}` : `${host}:${req.port}`;
    const buffer = this.readBuffers.take();
    conn.readBuffer = buffer;
    let opened: Opened;
    try {
      opened = await this.openSocket(up ? up.host : host, up ? up.port : req.port, up ? target : undefined, buffer);
    } catch (e) {
      conn.end = e instanceof SiosError && e.details['upstream'] === true ? 'upstream-refused' : 'dial-failed';
      this.answerAndClose(conn.client, 502, conn.end, `could not connect to ${conn.destination}`);
      return this.finish(conn);
    }
    const { sock, early } = opened;
    conn.upstream = sock;
    if (this.killed || conn.client.destroyed) { sock.destroy(); conn.end = conn.end ?? 'killed'; return this.finish(conn); }
    const client = conn.client;
    let upBudget = Infinity; // absolute-form: client bytes still to forward (the declared body)
    if (req.mode === 'connect') {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length > 0) { this.count(conn, 'up', rest.length); sock.write(rest); }
    } else {
      let head = `${req.method} ${req.path} HTTP/${req.version}\r\nHost: ${req.hostText}${req.port === 80 ? '' : `:${req.port}`}\r\n`;
      for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
      head += 'Connection: close\r\n\r\n';
      const body = rest.subarray(0, req.contentLength);
      upBudget = req.contentLength - body.length;
      this.count(conn, 'up', head.length + body.length);
      sock.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    }
    if (early.length > 0) { this.count(conn, 'down', early.length); client.write(early); }
    if (conn.finished) return;

    client.on('data', (chunk: Buffer) => {
      if (upBudget !== Infinity) {
        if (upBudget <= 0) return; // one request per connection: anything after the body is dropped
        chunk = chunk.subarray(0, upBudget);
        upBudget -= chunk.length;
      }
      if (!this.count(conn, 'up', chunk.length)) return;
      if (!sock.write(chunk)) client.pause();
    });
    sock.on('drain', () => client.resume());
    // Destination -> client. The bytes stay in `buffer` until the client socket has taken them, so
    // the destination is read again only once nothing is left to write (writableLength 0): right
    // away when the kernel took the write whole, else from the write's callback. Nothing else may
    // resume `sock` (a read then would overwrite bytes still waiting to go out).
    let waitingForClient = false;
    const clientTookAll = (): void => {
      if (waitingForClient && client.writableLength === 0) { waitingForClient = false; sock.resume(); }
    };
    opened.setReader((n) => {
      if (!this.count(conn, 'down', n)) return false;
      client.write(buffer.subarray(0, n), clientTookAll);
      if (client.writableLength === 0) return true;
      waitingForClient = true;
      return false;
    });
    client.on('end', () => { if (req.mode === 'connect') sock.end(); });
    sock.on('end', () => client.end());
    const idle = (): void => this.destroyConn(conn, 'idle-timeout');
    client.setTimeout(this.limits.idleTimeoutMs, idle);
    sock.setTimeout(this.limits.idleTimeoutMs, idle);
    sock.on('error', () => { conn.end = conn.end ?? 'error'; client.destroy(); });
    client.on('error', () => { conn.end = conn.end ?? 'error'; sock.destroy(); });
    // When the destination closes, flush what is buffered to the client, then close it; when the
    // client goes away there is no one to deliver to, so the destination side is cut at once.
    const onClose = (): void => {
      if (sock.destroyed && !client.destroyed) {
        if (client.writableFinished) client.destroy();
        else { client.end(); client.once('finish', () => client.destroy()); }
      } else if (client.destroyed && !sock.destroyed) sock.destroy();
      if (client.destroyed && sock.destroyed) void this.finish(conn);
    };
    client.on('close', onClose);
    sock.on('close', onClose);
    client.resume();
    sock.resume();
  }

  /** Account bytes against the tenant window; cuts the connection when the budget is crossed. */
  private count(conn: Conn, dir: 'up' | 'down', n: number): boolean {
    if (dir === 'up') conn.bytesUp += n; else conn.bytesDown += n;
    this.rollWindow();
    this.windowBytes += n;
    if (this.windowBytes > this.policy.budgets.maxBytesPerWindow) { this.destroyConn(conn, 'budget-exceeded'); return false; }
    return true;
  }

  private destroyConn(conn: Conn, end: EgressEnd): void {
    if (conn.end === undefined || conn.end === 'closed') conn.end = end;
    conn.client.destroy();
    conn.upstream?.destroy();
    if (!conn.allowed) { this.conns.delete(conn); conn.finished = true; }
  }

  private async finish(conn: Conn): Promise<void> {
    if (conn.finished) return;
    conn.finished = true;
    conn.client.destroy();
    conn.upstream?.destroy();
    this.conns.delete(conn);
    // Both sockets are destroyed (descriptors closed): nothing in flight can touch the buffer now.
    if (conn.readBuffer) { this.readBuffers.give(conn.readBuffer); conn.readBuffer = undefined; }
    if (conn.allowed) this.allowedActive--;
    const ev = this.event({ ...conn, end: conn.end ?? 'closed' }, 'outcome', 'allowed', conn.end ?? 'closed', 'connection ended');
    try { await this.audit(ev); } catch (e) { this.onAuditFailure?.(e, ev); }
  }

  /**
   * TCP connect, optionally through the upstream proxy with CONNECT `via`. The socket reads into
   * `buffer` (read-buffers.ts) and resolves paused; the relay installs its reader and resumes it.
   * On failure the socket is destroyed before the promise rejects.
   */
  private openSocket(host: string, port: number, via: string | undefined, buffer: Buffer): Promise<Opened> {
    return new Promise((resolve, reject) => {
      let reader: (n: number) => boolean = () => false;
      const sock = netConnect({ host, port, allowHalfOpen: true, noDelay: true, onread: { buffer, callback: (n) => reader(n) } });
      let settled = false;
      const fail = (e: SiosError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      };
      const open = (early: Buffer): void => {
        settled = true;
        clearTimeout(timer);
        reader = () => false;
        sock.pause();
        resolve({ sock, early, setReader: (r) => { reader = r; } });
      };
      const timer = setTimeout(() => fail(new SiosError('ERR_EGRESS', `connect to ${host}:${port} timed out`)), this.limits.connectTimeoutMs);
      // Once open, errors are the relay's (it adds its own listener); this one stays a no-op then.
      sock.on('error', (e) => fail(new SiosError('ERR_EGRESS', `connect to ${host}:${port} failed`, { cause: e })));
      sock.once('connect', () => {
        if (via === undefined) { open(EMPTY); return; }
        sock.write(`CONNECT ${via} HTTP/1.1\r\nHost: ${via}\r\n\r\n`);
        const refused = (why: string): void => {
          fail(new SiosError('ERR_EGRESS', `upstream proxy ${this.policy.upstream?.name ?? ''} refused CONNECT ${via}: ${why}`, { details: { upstream: true } }));
        };
        let head = EMPTY;
        reader = (n) => {
          head = Buffer.concat([head, buffer.subarray(0, n)]); // a copy: `buffer` is read into again
          const idx = head.indexOf(CRLFCRLF);
          if (idx < 0) {
            if (head.length <= this.limits.maxHeaderBytes) return true;
            refused('oversized response head');
            return false;
          }
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, idx).toString('latin1'));
          if (!status || status[1] !== '200') { refused(`status ${status?.[1] ?? 'unparseable'}`); return false; }
          open(head.subarray(idx + 4));
          return false;
        };
      });
    });
  }
}

function safeUnlink(path: string): void {
  try { if (lstatSync(path).isSocket()) unlinkSync(path); } catch { /* already gone */ }
}
