/**
 * The perimeter's audit sink on a tenant ledger: every PerimeterEvent becomes a sealed entry.
 *
 *   egress-attempt, egress-kill  ->  kind 'egress'
 *   cell-start, cell-end         ->  kind 'cell'
 *
 * The gateway and the cell runner AWAIT the sink before they act (sign-before-run), so an allowed
 * egress decision is durable and operator-signed before the first packet leaves, and a cell-start
 * before the process exists. A seal that fails rejects, and the perimeter then refuses (fail closed).
 *
 * Privacy (DESIGN.md "Privacy"): events carry no payload (no request path, header or body, no
 * command-line arguments); hosts, addresses, rules and byte counts are recorded in clear because
 * they are what an auditor checks against the allowlist.
 *
 * Links: an egress outcome names its decision ({seq, leaf}) and a cell-end its cell-start, inside
 * the signed body (so the link verifies offline) and as the store's `ref` (so `sios ledger show`
 * prints "→ seq").
 */
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import { toBase64url, utf8 } from '../encoding/bytes.ts';
import { leafHash } from '../ledger/merkle.ts';
import type { Ledger, Receipt, SealRequest } from '../ledger/ledger.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import type { AuditSink, PerimeterEvent } from './events.ts';

export interface LedgerAuditOptions {
  /** Hashes for the decision/start links (nodeVerifyCrypto in production). */
  readonly crypto: VerifyCrypto;
  /** Called with every receipt (for example to show seq numbers to the operator). */
  readonly onSealed?: (event: PerimeterEvent, receipt: Receipt) => void;
}

/** Map an event to the ledger request (exported for tests and for the gate's own reports). */
export function perimeterSealRequest(e: PerimeterEvent): SealRequest {
  switch (e.type) {
    case 'egress-attempt': {
      const body: Record<string, Json> = {
        event: e.type, phase: e.phase,
        // What `sios ledger show` prints in its "what" column.
        action: e.phase === 'decision' ? `${e.verdict} ${e.destination || '(unparseable request)'}` : `ended ${e.destination} (${e.end ?? e.reason})`,
        cell: e.cell, skill: e.skill, connection: e.connection, destination: e.destination, resolvedAddress: e.resolvedAddress,
        mode: e.mode, rule: e.rule, upstream: e.upstream, verdict: e.verdict, reason: e.reason, detail: e.detail,
        bytesUp: e.bytesUp, bytesDown: e.bytesDown, durationMs: Math.round(e.durationMs), at: e.time,
      };
      if (e.end !== undefined) body['end'] = e.end;
      return { kind: 'egress', body };
    }
    case 'egress-kill':
      return {
        kind: 'egress',
        body: { event: e.type, action: e.engaged ? 'kill switch engaged' : 'kill switch lifted', engaged: e.engaged, destroyed: e.destroyed, reason: e.reason, at: e.time },
      };
    case 'cell-start':
      return {
        kind: 'cell',
        body: {
          event: e.type, action: `cell-start ${e.sandbox}`, cell: e.cell, skill: e.skill, sandbox: e.sandbox,
          optOut: e.optOut === null ? null : { operator: e.optOut.operator, reason: e.optOut.reason },
          seccomp: e.seccomp, egress: e.egress, program: e.program, readOnly: [...e.readOnly],
          limits: { ...e.limits }, at: e.time,
        },
      };
    case 'cell-end':
      return {
        kind: 'cell',
        body: {
          event: e.type, action: `cell-end ${e.reason}${e.exitCode === null ? '' : ` ${e.exitCode}`}`, cell: e.cell, skill: e.skill,
          reason: e.reason, exitCode: e.exitCode, signal: e.signal, durationMs: Math.round(e.durationMs),
          cpuUserMs: e.cpuUserMs, cpuSystemMs: e.cpuSystemMs, stdoutBytes: e.stdoutBytes, stderrBytes: e.stderrBytes, at: e.time,
        },
      };
    default: {
      const never: never = e;
      throw new SiosError('ERR_INPUT', `unknown perimeter event ${JSON.stringify((never as { type?: unknown }).type)}`);
    }
  }
}

/**
 * An AuditSink that seals into `ledger`. Rejects (so the perimeter refuses) when the event names
 * another tenant than the ledger's: a gateway wired to the wrong ledger must not run.
 */
export function ledgerAuditSink(ledger: Ledger, o: LedgerAuditOptions): AuditSink {
  const decisions = new Map<string, { seq: number; leaf: string }>();
  const starts = new Map<string, { seq: number; leaf: string }>();
  const link = (r: Receipt): { seq: number; leaf: string } => ({ seq: r.seq, leaf: toBase64url(leafHash(o.crypto, utf8(r.entry))) });
  return async (e) => {
    if (e.tenant !== ledger.tenant) {
      throw new SiosError('ERR_INPUT', `perimeter event for tenant ${e.tenant} offered to the ledger of tenant ${ledger.tenant}; refusing to record it elsewhere`);
    }
    const req = perimeterSealRequest(e);
    let links: Map<string, { seq: number; leaf: string }> | undefined;
    let key = '';
    if (e.type === 'egress-attempt' && e.phase === 'outcome') { links = decisions; key = e.connection; }
    if (e.type === 'cell-end') { links = starts; key = e.cell; }
    const prior = links?.get(key);
    if (links && prior) {
      req.body[e.type === 'cell-end' ? 'start' : 'decision'] = prior;
      req.ref = prior.seq;
      links.delete(key);
    }
    const receipt = await ledger.seal(req);
    if (e.type === 'egress-attempt' && e.phase === 'decision' && e.verdict === 'allowed') decisions.set(e.connection, link(receipt));
    if (e.type === 'cell-start') starts.set(e.cell, link(receipt));
    o.onSealed?.(e, receipt);
  };
}
