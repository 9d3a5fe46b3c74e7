/**
 * A tenant's append-only, signed, Merkle-logged ledger with sign-before-run semantics.
 *
 * `seal()` resolves only when the entry is durable (the store's commit is fsync'd) AND covered by an
 * operator-signed checkpoint, and the receipt it returns verifies offline on its own. Under light
 * load each entry gets its own checkpoint; under concurrency, requests that arrive while a batch is
 * being signed form the next batch (group commit): one ML-DSA-65 signature then covers the whole
 * batch and each entry keeps its own inclusion proof.
 */
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fromUtf8, toBase64, toBase64url, utf8 } from '../encoding/bytes.ts';
import type { Signer, VerifyCrypto } from '../crypto/suite.ts';
import type { LedgerStore, StoredEntry, StoredPayload } from '../store/ledger-store.ts';
import { MerkleTree, leafHash } from './merkle.ts';
import { assertKind, commitment, encodeEntryText, ENTRY_VERSION, genesisPrev, type Entry } from './entry.ts';
import { parseSignedCheckpoint, signCheckpoint } from './note.ts';
import { rotationStatementFor } from './rotation.ts';

export interface Receipt {
  v: 1;
  origin: string;
  seq: number;
  /** The entry's exact bytes, as UTF-8 text (canonical JSON). */
  entry: string;
  /** RFC 9162 inclusion proof from the entry to the checkpoint's tree, base64. */
  proof: string[];
  /** The signed checkpoint (C2SP signed note) that covers the entry. */
  checkpoint: string;
}

export interface SealRequest {
  kind: string;
  body: Record<string, Json>;
  /** Sensitive values: committed to in the entry (salted), stored encrypted beside the ledger. */
  payloads?: Record<string, Json>;
  /** For outcomes: the intent seq they close. */
  ref?: number;
  /** Salts chosen by the caller for some payloads (when the commitment was shown before sealing,
   *  e.g. in a digest a person approved); others get fresh random salts. 32 bytes each. */
  salts?: Record<string, Uint8Array>;
}

export interface PayloadCipher {
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

export interface LedgerOptions {
  tenant: string;
  origin: string;
  store: LedgerStore;
  signer: Signer;
  crypto: VerifyCrypto;
  /** Encrypts payloads at rest; required to seal requests with payloads. */
  cipher?: PayloadCipher;
  /** Source of salts; node:crypto's randomBytes in production. */
  random: (n: number) => Uint8Array;
  now?: () => number;
  /** Extension lines for each checkpoint (attestation mode, evidence digest). */
  checkpointExtensions?: () => string[];
  maxBatch?: number;
}

interface Prepared {
  startSize: number;
  startPrev: Uint8Array;
  entries: StoredEntry[];
  /** The entries' canonical JSON text (their bytes are its UTF-8). */
  texts: string[];
  payloads: StoredPayload[];
  accepted: Pending[];
  time: string;
  size: number;
  root: Uint8Array;
  signer: Signer;
}

interface Pending {
  req: SealRequest;
  nextSigner: Signer | undefined;
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
}

export class Ledger {
  readonly tenant: string;
  readonly origin: string;
  private readonly store: LedgerStore;
  private signer: Signer;
  private readonly c: VerifyCrypto;
  private readonly cipher: PayloadCipher | undefined;
  private readonly random: (n: number) => Uint8Array;
  private readonly now: () => number;
  private readonly extensions: () => string[];
  private readonly maxBatch: number;
  private readonly tree: MerkleTree;
  private prev: Uint8Array;
  private queue: Pending[] = [];
  private running = false;
  private closed = false;
  private lastCheckpoint: string | undefined;
  /** Set while the pump waits with room for another batch: a new request wakes it to start one. */
  private wake: (() => void) | undefined;
  /** Leaf hashes of the receipts this ledger issued, so that recording an outcome does not re-hash its intent. */
  private readonly leaves = new WeakMap<Receipt, Uint8Array>();
  /** Figures for benchmarks and `sios ledger stats`. */
  readonly stats = { batches: 0, entries: 0, maxBatch: 0 };

  private constructor(o: LedgerOptions, tree: MerkleTree, prev: Uint8Array, lastCheckpoint: string | undefined) {
    this.tenant = o.tenant;
    this.origin = o.origin;
    this.store = o.store;
    this.signer = o.signer;
    this.c = o.crypto;
    this.cipher = o.cipher;
    this.random = o.random;
    this.now = o.now ?? Date.now;
    this.extensions = o.checkpointExtensions ?? (() => []);
    this.maxBatch = o.maxBatch ?? 512;
    this.tree = tree;
    this.prev = prev;
    this.lastCheckpoint = lastCheckpoint;
  }

  /** Open (or create) a ledger; checks the stored entries against the last signed checkpoint. */
  static open(o: LedgerOptions): Ledger {
    const tree = new MerkleTree(o.crypto);
    for (const leaf of o.store.loadLeaves()) tree.appendLeafHash(leaf);
    const last = o.store.lastEntry();
    const cp = o.store.latestCheckpoint();
    if (cp) {
      const sc = parseSignedCheckpoint(cp.note);
      if (sc.checkpoint.origin !== o.origin) throw new SiosError('ERR_STORE', `ledger database belongs to '${sc.checkpoint.origin}', not '${o.origin}'`);
      if (cp.size > tree.size || !eqBytes(tree.root(cp.size), sc.checkpoint.root)) {
        throw new SiosError('ERR_STORE', `ledger for tenant ${o.tenant} does not match its last signed checkpoint (size ${cp.size}): the database was altered outside SIOS. Refusing to append; export and verify it, then restore from backup`);
      }
    } else if (tree.size > 0) {
      throw new SiosError('ERR_STORE', `ledger for tenant ${o.tenant} has entries but no signed checkpoint: the database was altered outside SIOS`);
    }
    const prev = last ? last.leaf : genesisPrev(o.crypto, o.origin);
    return new Ledger(o, tree, prev, cp?.note);
  }

  get size(): number {
    return this.tree.size;
  }

  get publicKey(): Uint8Array {
    return this.signer.publicKey;
  }

  latestCheckpoint(): string | undefined {
    return this.lastCheckpoint;
  }

  /** Sign-before-run: resolves once the entry is durable and covered by a signed checkpoint. */
  seal(req: SealRequest): Promise<Receipt> {
    return this.enqueue(req, undefined);
  }

  /** Record the outcome of a sealed intent, linked to it by seq and leaf hash. */
  record(outcome: Record<string, Json>, intent: Receipt, payloads?: Record<string, Json>): Promise<Receipt> {
    if (intent.origin !== this.origin) {
      return Promise.reject(new SiosError('ERR_INPUT', `the intent receipt belongs to ${intent.origin}, not this ledger (${this.origin})`));
    }
    // A receipt this ledger issued carries its leaf hash; any other is hashed from its entry text.
    // A receipt object is only ever read here, so the remembered hash is that of its entry.
    const known = this.leaves.get(intent);
    const leaf = toBase64url(known !== undefined && Object.isFrozen(intent) ? known : leafHash(this.c, utf8(intent.entry)));
    const req: SealRequest = { kind: 'outcome', body: { ...outcome, intent: { seq: intent.seq, leaf } }, ref: intent.seq };
    if (payloads) req.payloads = payloads;
    return this.seal(req);
  }

  /**
   * Announce and switch to a new signing key: the announcement entry carries the new public key and
   * the old key's signature over it, and is covered by a checkpoint signed with the old key; every
   * later checkpoint is signed with the new key.
   */
  async rotate(next: Signer): Promise<Receipt> {
    const statement = rotationStatementFor(this.origin, next.publicKey);
    const sig = await this.signer.sign(statement);
    const body: Record<string, Json> = {
      old: toBase64url(this.signer.publicKey),
      new: toBase64url(next.publicKey),
      signature: toBase64url(sig),
    };
    return this.enqueue({ kind: 'key-rotation', body }, next);
  }

  /**
   * Continue with a signer this ledger already announced in a key-rotation entry (resuming an
   * interrupted rotation). Refused unless the last rotation entry names exactly this key.
   */
  useSigner(next: Signer): void {
    if (!this.hasAnnounced(next.publicKey)) throw new SiosError('ERR_KEY', `ledger ${this.origin} never announced this key; rotate to it instead`);
    this.signer = next;
  }

  /** Did the last key-rotation entry of this ledger announce `publicKey`? */
  hasAnnounced(publicKey: Uint8Array): boolean {
    return this.store.lastRotation?.() === toBase64url(publicKey);
  }

  private enqueue(req: SealRequest, nextSigner: Signer | undefined): Promise<Receipt> {
    if (this.closed) return Promise.reject(new SiosError('ERR_CLOSED', `ledger ${this.origin} is closed`));
    try {
      assertKind(req.kind);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<Receipt>((resolve, reject) => {
      this.queue.push({ req, nextSigner, resolve, reject });
      if (!this.running) void this.pump();
      else this.wake?.();
    });
  }

  private take(): Pending[] {
    // A key rotation ends its batch so that the batch's checkpoint is the old key's last.
    let n = Math.min(this.queue.length, this.maxBatch);
    for (let i = 0; i < n; i++) if ((this.queue[i] as Pending).nextSigner) { n = i + 1; break; }
    return this.queue.splice(0, n);
  }

  /**
   * Pipeline: batches are signed on the thread pool and committed in order on the store's writer
   * thread when it has one (appendBatchAsync, so that the flush never blocks this event loop). A
   * batch is acknowledged the moment its commit and every earlier one are confirmed: never before it
   * is both signed and durable. Commits are handed to the writer as soon as they are signed, without
   * waiting for the one before (the writer applies them in order and refuses one that does not
   * follow the last on disk). Under load one batch signs at a time, so requests that arrive
   * meanwhile form the next batch and share its signature instead of adding signatures; while the
   * batch being signed is small (light load, spare CPU) a second one may sign beside it, so that a
   * request does not wait for another's signature. If a batch fails to sign or commit it is undone
   * and its requests fail; batches after it are undone with it and their requests go back to the
   * head of the queue. A key rotation is never signed ahead: the batch after it waits until the new
   * key is in use.
   */
  private async pump(): Promise<void> {
    this.running = true;
    const signing: { prep: Prepared; sig: Promise<string> }[] = [];
    const committing: { prep: Prepared; done: Promise<void> }[] = [];
    const requeueAfter = (from: number): void => {
      const items: Pending[] = [];
      for (const x of committing.splice(from)) items.push(...x.prep.accepted);
      for (const x of signing.splice(0)) { x.sig.catch(() => undefined); items.push(...x.prep.accepted); }
      this.queue.unshift(...items);
    };
    // Wait for the oldest commit. If it failed, undo it (and with it everything prepared after it),
    // fail its requests and put the later ones back in the queue.
    const settleOldest = async (): Promise<boolean> => {
      const c = committing[0];
      if (c === undefined) return true;
      try {
        await c.done;
        committing.shift();
        return true;
      } catch (e) {
        committing.shift();
        this.undo(c.prep);
        for (const p of c.prep.accepted) p.reject(e);
        requeueAfter(0);
        return false;
      }
    };
    const rotating = (b: Prepared | undefined): boolean => b?.accepted[b.accepted.length - 1]?.nextSigner !== undefined;
    const arrival = (): Promise<true> => new Promise((r) => { this.wake = () => r(true); });
    try {
      for (;;) {
        // A rotation's batch is acknowledged (the new key in use) before the next batch is prepared;
        // and at most MAX_COMMITTING commits are outstanding.
        if (committing.length >= MAX_COMMITTING || committing.some((x) => rotating(x.prep))) { await settleOldest(); continue; }
        if (this.queue.length > 0 && this.mayStartBatch(signing.map((x) => x.prep), rotating)) {
          // Let the work already runnable on this event loop (callers just acknowledged, requests
          // being authorised) reach the queue first, so that it joins this batch and its signature.
          await new Promise<void>((r) => setImmediate(r));
          if (committing.some((x) => rotating(x.prep))) continue;
          const prep = this.prepare(this.take());
          if (prep) signing.push({ prep, sig: this.sign(prep) });
          continue;
        }
        const head = signing[0];
        if (head === undefined) {
          if (committing.length === 0) {
            if (this.queue.length > 0) continue;
            break;
          }
          // Nothing to sign: wait for the oldest commit, or for a request that can start a batch.
          const oldest = committing[0] as { done: Promise<void> };
          const woken = await Promise.race([oldest.done.then(() => false, () => false), arrival()]);
          this.wake = undefined;
          if (!woken) await settleOldest();
          continue;
        }
        if (this.queue.length === 0 && this.mayStartBatch(signing.map((x) => x.prep), rotating)) {
          // A small batch is signing: a request arriving now may start a batch beside it.
          const woken = await Promise.race([head.sig.then(() => false, () => false), arrival()]);
          this.wake = undefined;
          if (woken) continue;
        }
        let note: string;
        try {
          note = await head.sig;
        } catch (e) {
          // Earlier batches are unaffected; this one and any prepared after it are undone.
          signing.shift();
          this.undo(head.prep);
          for (const p of head.prep.accepted) p.reject(e);
          requeueAfter(committing.length);
          continue;
        }
        signing.shift();
        const before = committing[committing.length - 1]?.done ?? Promise.resolve();
        let written: Promise<void>;
        try {
          written = Promise.resolve(this.commit(head.prep, note));
        } catch (e) {
          written = Promise.reject(e);
        }
        const done = Promise.all([before, written]).then(() => this.acknowledge(head.prep, note));
        done.catch(() => undefined); // observed by settleOldest()
        committing.push({ prep: head.prep, done });
      }
    } finally {
      this.wake = undefined;
      this.running = false;
    }
  }

  /** A new batch may start signing when none is, or beside one small batch (see pump). */
  private mayStartBatch(signing: Prepared[], rotating: (b: Prepared | undefined) => boolean): boolean {
    if (signing.length === 0) return true;
    const only = signing[0] as Prepared;
    return signing.length === 1 && only.accepted.length < SMALL_BATCH && !rotating(only);
  }

  private prepare(batch: Pending[]): Prepared | undefined {
    const startSize = this.tree.size;
    const startPrev = this.prev;
    const entries: StoredEntry[] = [];
    const texts: string[] = [];
    const payloads: StoredPayload[] = [];
    const accepted: Pending[] = [];
    const time = new Date(this.now()).toISOString();
    for (const p of batch) {
      const seq = startSize + accepted.length;
      const mine: StoredPayload[] = [];
      try {
        const body: Record<string, Json> = { ...p.req.body };
        if (p.req.payloads && Object.keys(p.req.payloads).length > 0) {
          if (!this.cipher) throw new SiosError('ERR_KEY', 'this ledger has no payload key; payloads cannot be stored');
          const commits: Record<string, Json> = {};
          for (const [name, value] of Object.entries(p.req.payloads)) {
            const salt = p.req.salts?.[name] ?? this.random(32);
            commits[name] = toBase64url(commitment(this.c, salt, value));
            const plain = utf8(canonicalize({ salt: toBase64url(salt), payload: value }));
            mine.push({ seq, name, sealed: this.cipher.seal(plain, payloadAad(this.origin, seq, name)) });
          }
          body['commitments'] = commits;
        }
        const entry: Entry = { v: ENTRY_VERSION, tenant: this.tenant, seq, time, kind: p.req.kind, prev: toBase64url(this.prev), body };
        const { text, bytes } = encodeEntryText(entry);
        const leaf = leafHash(this.c, bytes);
        this.tree.appendLeafHash(leaf);
        this.prev = leaf;
        entries.push({ seq, kind: p.req.kind, ref: p.req.ref ?? null, bytes, leaf });
        texts.push(text);
        payloads.push(...mine);
        accepted.push(p);
      } catch (e) {
        // A request that cannot be encoded fails alone; it never takes a sequence number.
        p.reject(e);
      }
    }
    if (accepted.length === 0) return undefined;
    return { startSize, startPrev, entries, texts, payloads, accepted, time, size: this.tree.size, root: this.tree.root(this.tree.size), signer: this.signer };
  }

  private async sign(b: Prepared): Promise<string> {
    const signed = await signCheckpoint(this.c, {
      origin: this.origin, size: b.size, root: b.root, extensions: [`sios-time ${b.time}`, ...this.extensions()],
    }, b.signer);
    return signed.text;
  }

  private commit(b: Prepared, note: string): Promise<void> | void {
    const checkpoint = { size: b.size, note };
    if (this.store.appendBatchAsync) return this.store.appendBatchAsync(b.entries, b.payloads, checkpoint, b.startSize);
    this.store.appendBatch(b.entries, b.payloads, checkpoint, b.startSize);
  }

  private acknowledge(b: Prepared, note: string): void {
    this.lastCheckpoint = note;
    this.stats.batches++; this.stats.entries += b.accepted.length;
    if (b.accepted.length > this.stats.maxBatch) this.stats.maxBatch = b.accepted.length;
    for (let i = 0; i < b.accepted.length; i++) {
      const seq = b.startSize + i;
      const proof = Object.freeze(this.tree.inclusionProof(seq, b.size).map(toBase64)) as string[];
      const e = b.entries[i] as StoredEntry;
      const receipt: Receipt = Object.freeze({ v: 1, origin: this.origin, seq, entry: b.texts[i] as string, proof, checkpoint: note });
      this.leaves.set(receipt, e.leaf);
      (b.accepted[i] as Pending).resolve(receipt);
    }
    const rot = b.accepted[b.accepted.length - 1]?.nextSigner;
    if (rot) this.signer = rot;
  }

  /** Nothing of this batch was acknowledged: drop it (and anything after it) from the tree. */
  private undo(b: Prepared): void {
    this.tree.truncate(b.startSize);
    this.prev = b.startPrev;
  }

  /** Intents with no recorded outcome (after a crash: in doubt, never silently dropped). */
  inDoubt(): number[] {
    return this.store.openIntents();
  }

  /** Decrypt a committed payload (for the tenant's own use or disclosure to an auditor). */
  disclose(seq: number, name: string): { seq: number; name: string; salt: string; payload: Json } {
    if (!this.cipher) throw new SiosError('ERR_KEY', 'this ledger has no payload key');
    const p = this.store.payload(seq, name);
    if (!p) throw new SiosError('ERR_NOT_FOUND', `entry ${seq} has no payload named '${name}'`);
    if (!p.sealed) throw new SiosError('ERR_NOT_FOUND', `payload '${name}' of entry ${seq} was erased; its commitment remains in the ledger`);
    const o = JSON.parse(fromUtf8(this.cipher.open(p.sealed, payloadAad(this.origin, seq, name)))) as { salt: string; payload: Json };
    return { seq, name, salt: o.salt, payload: o.payload };
  }

  /** Erase a payload (for example on a GDPR request): the ledger stays verifiable. */
  erase(seq: number, name: string): boolean {
    return this.store.erasePayload(seq, name);
  }

  consistencyProof(from: number, to = this.tree.size): string[] {
    return this.tree.consistencyProof(from, to).map(toBase64);
  }

  inclusionProof(seq: number, size = this.tree.size): string[] {
    return this.tree.inclusionProof(seq, size).map(toBase64);
  }

  /** Wait for queued seals to finish, then refuse new ones. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
    if (this.store.closeAsync) await this.store.closeAsync();
    else this.store.close();
  }
}


/** Below this many entries a batch being signed leaves room for a second beside it (see pump). */
const SMALL_BATCH = 4;
/** Commits handed to the store and not yet confirmed, at most. */
const MAX_COMMITTING = 4;

function payloadAad(origin: string, seq: number, name: string): Uint8Array {
  return utf8(`sios-payload/v1\n${origin}\n${seq}\n${name}`);
}

function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

