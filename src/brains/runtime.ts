/**
 * The brain runtime interface the gate drives. A runtime only proposes and reviews; it never
 * executes anything: every proposed call goes through the gate (schema, sentinel, policy, seal).
 */
import type { Json } from '../encoding/jcs.ts';
import type { SkillManifest } from '../skills/manifest.ts';

export interface ContextItem {
  /** Where the text came from (a record id, a document, a tool result), for audit and taint. */
  readonly source: string;
  readonly text: string;
}

/** A tool offered to the brain: a skill's id, description and argument schema. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: Json;
}

export interface ToolCall {
  readonly skill: string;
  /** Whatever the brain produced; validated against the skill's schema by the gate, never trusted. */
  readonly args: unknown;
}

export interface Proposal {
  readonly text?: string;
  readonly calls: readonly ToolCall[];
}

export interface ReviewVerdict {
  readonly verdict: 'approve' | 'reject';
  readonly reason: string;
}

export interface BrainRuntime {
  propose(input: { task: string; context: readonly ContextItem[]; tools: readonly ToolSpec[]; signal: AbortSignal }): Promise<Proposal>;
  review(input: { proposal: ToolCall; dryRun: unknown; signal: AbortSignal }): Promise<ReviewVerdict>;
}

export function toolSpec(skill: SkillManifest): ToolSpec {
  return { name: skill.id, description: skill.description, parameters: skill.argsSchema };
}

export const MAX_CALLS_PER_PROPOSAL = 16;
export const MAX_REASON = 2048;
