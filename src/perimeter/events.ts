/**
 * Security-relevant perimeter events. Each one is handed to the injected `audit` callback, which
 * the gate wires to the ledger (it seals an OAR). The perimeter AWAITS the callback before it acts
 * (sign-before-run) and treats a rejection as "do not act" (fail closed).
 * Fields are plain JSON values so the ledger can canonicalise them (JCS) unchanged.
 */

export type EgressVerdict = 'allowed' | 'refused';

/** How an allowed connection ended (outcome phase). */
export type EgressEnd = 'closed' | 'dial-failed' | 'upstream-refused' | 'killed' | 'budget-exceeded' | 'idle-timeout' | 'error';

export interface EgressAttemptEvent {
  readonly type: 'egress-attempt';
  /** 'decision': before dialling (allowed) or on refusal; 'outcome': after an allowed connection closed. */
  readonly phase: 'decision' | 'outcome';
  readonly tenant: string;
  readonly cell: string;
  readonly skill: string;
  /** Gateway-unique id linking a decision to its outcome. */
  readonly connection: string;
  /** `host:port` as requested (IPv6 in brackets); '' when the request could not be parsed. */
  readonly destination: string;
  /** The address checked and dialled; '' when none (refused before resolution, or resolveVia upstream). */
  readonly resolvedAddress: string;
  /** 'connect' (CONNECT tunnel), 'absolute-form' (plain-HTTP forward), or 'malformed'. */
  readonly mode: 'connect' | 'absolute-form' | 'malformed';
  /** Allowlist entry that admitted the host, or internal range used; '' if none. */
  readonly rule: string;
  /** Named upstream proxy the connection goes through; '' when direct. */
  readonly upstream: string;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly durationMs: number;
  readonly verdict: EgressVerdict;
  /** Stable machine reason (for example 'not-allowlisted', 'address-loopback', 'header-timeout'). */
  readonly reason: string;
  /** Human detail, no secrets. */
  readonly detail: string;
  readonly end?: EgressEnd;
  readonly time: string;
}

export interface EgressKillEvent {
  readonly type: 'egress-kill';
  readonly tenant: string;
  readonly engaged: boolean;
  /** Connections destroyed by engaging the switch. */
  readonly destroyed: number;
  readonly reason: string;
  readonly time: string;
}

export interface CellLimitsRecord {
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
  readonly processes: number;
  readonly fileSizeBytes: number;
  readonly openFiles: number;
  readonly wallClockMs: number;
  readonly outputBytes: number;
  readonly tmpBytes: number;
}

export interface CellStartEvent {
  readonly type: 'cell-start';
  readonly tenant: string;
  readonly cell: string;
  readonly skill: string;
  /** 'bwrap' normally; 'none' only when the operator opted this tenant out (recorded below). */
  readonly sandbox: 'bwrap' | 'none';
  readonly optOut: { readonly operator: string; readonly reason: string } | null;
  readonly seccomp: boolean;
  readonly egress: boolean;
  /** argv[0] inside the cell and the read-only paths bound in (no arguments: they may be data). */
  readonly program: string;
  readonly readOnly: readonly string[];
  readonly limits: CellLimitsRecord;
  readonly time: string;
}

export type CellEndReason = 'exit' | 'signal' | 'wall-clock' | 'output-limit' | 'spawn-error';

export interface CellEndEvent {
  readonly type: 'cell-end';
  readonly tenant: string;
  readonly cell: string;
  readonly skill: string;
  readonly reason: CellEndReason;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** CPU time of everything the cell ran (children's rusage, 10 ms granularity); -1 if unknown. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  readonly time: string;
}

export type PerimeterEvent = EgressAttemptEvent | EgressKillEvent | CellStartEvent | CellEndEvent;

export type AuditSink = (event: PerimeterEvent) => Promise<void>;
