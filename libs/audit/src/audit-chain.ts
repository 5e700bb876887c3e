import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { CheckpointTrust, checkCheckpoint } from './audit-checkpoint';
import type { ChainAnchor } from './audit-head';

export { canonicalJson };

/*
 * The audit trail's hash chain. Every event has a position (`seq`, 1, 2, 3, ... with no gaps: positions are handed
 * out inside the event's own transaction, so a rollback gives its position back) and a `hash` over its fields and
 * the previous event's hash. Editing, deleting or inserting a row behind the service's back breaks the chain at
 * that row. The hash is plain SHA-256 over a canonical JSON text, so an auditor can recompute it from an export
 * with any JSON library and any SHA-256 (see README, "Audit trail").
 *
 * The migration that chained the rows written before the chain existed (libs/persistence, 1765100000000-audit-chain)
 * holds a frozen copy of this hash (version `v: 1`); its unit test fails when this function stops equalling it. A
 * change to what the hash covers needs a new `v`, with rows of the old version still verified the old way.
 */

/** The `prevHash` of the first event ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** What the hash covers: every stored field of the event, its position, and its predecessor's hash. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  id: string;
  /** Epoch milliseconds (the stored value; an export's ISO instant converts back exactly). */
  occurredAt: number;
  type: string;
  outcome: string;
  reason: string | null;
  actorType: string;
  actorId: string | null;
  subjectType: string | null;
  subjectId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  details: unknown;
}

/** The details as they will read back from storage (JSON text): hash what will be read, not what was passed. */
export function storedDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details ?? {})) as Record<string, unknown>;
}

/** The hash of exactly the link's fields (anything else the object carries, e.g. its own hash, is left out). */
export function chainHash(link: ChainLink): string {
  const fields = {
    v: 1,
    seq: link.seq,
    prevHash: link.prevHash,
    id: link.id,
    occurredAt: link.occurredAt,
    type: link.type,
    outcome: link.outcome,
    reason: link.reason,
    actorType: link.actorType,
    actorId: link.actorId,
    subjectType: link.subjectType,
    subjectId: link.subjectId,
    clientIp: link.clientIp,
    userAgent: link.userAgent,
    details: link.details,
  };
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

/** An event as read back for verification: its link fields plus the hash stored with it (null when it has none). */
export interface StoredLink extends Omit<ChainLink, 'seq' | 'prevHash'> {
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
}

/** Where the chain was found broken, and how. */
export interface ChainBreak {
  /** The first bad event's id, or, for a missing event, the id of the event found in its place. */
  eventId: string | null;
  seq: number | null;
  problem: string;
}

/** The retention checkpoint a chain that does not start at seq 1 starts from, and the key its signature relied on. */
export interface StartCheckpoint {
  eventId: string;
  seq: number;
  kid: string;
}

/** How a signed head kept outside the database was found: in the trail, or in the prefix a checkpoint pruned. */
export interface AnchorFound extends ChainAnchor {
  /** true: the head lies in the pruned prefix, vouched for by the signed checkpoint the chain starts from. */
  pruned: boolean;
}

export type ChainVerdict =
  | {
      ok: true;
      events: number;
      first: number | null;
      last: { seq: number; hash: string } | null;
      checkpoint: StartCheckpoint | null;
      anchor?: AnchorFound;
    }
  | { ok: false; events: number; broken: ChainBreak };

/** A pruned prefix: events up to `throughSeq` were deleted on purpose, the last of them hashed to `throughHash`. */
export interface Checkpoint {
  throughSeq: number;
  throughHash: string;
}

/** The event type the retention job writes; its details carry the checkpoint the remaining chain starts from. */
export const PRUNED_EVENT = 'audit.pruned';

/** A checkpoint found in the chain: where it says the pruned prefix ended, and the event that records it. */
interface RecordedCheckpoint extends Checkpoint {
  eventId: string;
  seq: number;
  details: Record<string, unknown>;
}

/**
 * Checks events fed in `seq` order, one at a time (so a trail of any size is checked in constant memory). A chain
 * that does not start at seq 1 must start exactly where a checkpoint recorded by the retention job, inside the
 * checked chain itself, says the pruned prefix ended, and that checkpoint's signature must verify with a key
 * `trust` relies on (see audit-checkpoint.ts).
 */
export class ChainChecker {
  private count = 0;
  private previous: { seq: number; hash: string } | null = null;
  private start: Checkpoint | null = null;
  private readonly checkpoints: RecordedCheckpoint[] = [];
  private broken: ChainBreak | null = null;
  private anchorSeen = false;

  /** `anchor`: a signed head kept outside the database; the chain must still contain it, unchanged. */
  constructor(
    private readonly trust: CheckpointTrust,
    private readonly anchor?: ChainAnchor,
  ) {}

  /** Returns false once the chain is broken (later events need not be fed). */
  add(event: StoredLink): boolean {
    if (this.broken) return false;
    this.count += 1;
    const fail = (problem: string) => {
      this.broken = { eventId: event.id, seq: event.seq, problem };
      return false;
    };
    if (event.seq === null || event.prevHash === null || event.hash === null)
      return fail('has no place in the chain (written outside the service)');
    if (this.previous === null) {
      if (event.seq !== 1 || event.prevHash !== GENESIS_HASH)
        this.start = { throughSeq: event.seq - 1, throughHash: event.prevHash };
    } else {
      if (event.seq !== this.previous.seq + 1) {
        this.broken = {
          eventId: event.id,
          seq: this.previous.seq + 1,
          problem: `is missing (the chain jumps from ${this.previous.seq} to ${event.seq})`,
        };
        return false;
      }
      if (event.prevHash !== this.previous.hash) return fail('does not follow its predecessor (prevHash differs)');
    }
    if (chainHash({ ...event, seq: event.seq, prevHash: event.prevHash }) !== event.hash)
      return fail('was altered (its hash does not match its fields)');
    if (this.anchor && event.seq === this.anchor.seq) {
      // The chain was rewritten from here or before it (and rehashed): the trail no longer holds the signed head.
      if (event.hash !== this.anchor.hash)
        return fail(`differs from the signed head kept outside (head ${this.anchor.seq} had hash ${this.anchor.hash})`);
      this.anchorSeen = true;
    }
    if (event.type === PRUNED_EVENT) {
      const d = event.details as (Partial<Checkpoint> & Record<string, unknown>) | null;
      if (d && typeof d.throughSeq === 'number' && typeof d.throughHash === 'string')
        this.checkpoints.push({
          throughSeq: d.throughSeq,
          throughHash: d.throughHash,
          eventId: event.id,
          seq: event.seq,
          details: d,
        });
    }
    this.previous = { seq: event.seq, hash: event.hash };
    return true;
  }

  /** The verdict, given where the service says the chain ends (`head`; omit for an export checked offline). */
  finish(head?: { seq: number; hash: string }): ChainVerdict {
    if (this.broken) return { ok: false, events: this.count, broken: this.broken };
    let checkpoint: StartCheckpoint | null = null;
    if (this.start) {
      const start = this.start;
      const recorded = this.checkpoints.find(
        (c) => c.throughSeq === start.throughSeq && c.throughHash === start.throughHash,
      );
      if (!recorded)
        return {
          ok: false,
          events: this.count,
          broken: {
            eventId: null,
            seq: start.throughSeq,
            problem: `is missing (the chain starts at ${start.throughSeq + 1} and no retention checkpoint covers the events before it)`,
          },
        };
      // Only the checkpoint the chain starts from is relied on, so only its signature decides.
      const signed = checkCheckpoint(recorded.details, this.trust);
      if (!signed.ok)
        return {
          ok: false,
          events: this.count,
          broken: {
            eventId: recorded.eventId,
            seq: recorded.seq,
            problem: `is the retention checkpoint the chain starts from, and it ${signed.problem}`,
          },
        };
      checkpoint = { eventId: recorded.eventId, seq: recorded.seq, kid: signed.kid };
    }
    const anchor = this.anchor ? this.findAnchor(this.anchor) : undefined;
    if (anchor && 'broken' in anchor) return { ok: false, events: this.count, broken: anchor.broken };
    if (head && head.seq > 0) {
      const last = this.previous;
      if (!last || last.seq < head.seq)
        return {
          ok: false,
          events: this.count,
          broken: {
            eventId: null,
            seq: (last?.seq ?? 0) + 1,
            problem: `is missing (the chain ends at ${last?.seq ?? 0}, the service wrote up to ${head.seq})`,
          },
        };
      if (last.seq > head.seq)
        return {
          ok: false,
          events: this.count,
          broken: {
            eventId: null,
            seq: head.seq + 1,
            problem: `was not written by the service (the service wrote up to ${head.seq})`,
          },
        };
      if (last.hash !== head.hash)
        return {
          ok: false,
          events: this.count,
          broken: {
            eventId: null,
            seq: last.seq,
            problem: 'differs from what the service wrote (the chain head differs)',
          },
        };
    }
    return {
      ok: true,
      events: this.count,
      first: this.start ? this.start.throughSeq + 1 : this.previous ? 1 : null,
      last: this.previous,
      checkpoint,
      ...(anchor ? { anchor } : {}),
    };
  }

  /** Where the signed head is: seen in the chain, at or before the checkpoint the chain starts from, or missing. */
  private findAnchor(anchor: ChainAnchor): AnchorFound | { broken: ChainBreak } {
    if (this.anchorSeen || (anchor.seq === 0 && anchor.hash === GENESIS_HASH)) return { ...anchor, pruned: false };
    const start = this.start;
    if (start && anchor.seq <= start.throughSeq) {
      // Pruned by the service (the checkpoint's signature was checked above): the start itself must match.
      if (anchor.seq < start.throughSeq || anchor.hash === start.throughHash) return { ...anchor, pruned: true };
      return {
        broken: {
          eventId: null,
          seq: anchor.seq,
          problem: `differs from the signed head kept outside (the retention checkpoint records another hash at ${anchor.seq})`,
        },
      };
    }
    const last = this.previous?.seq ?? 0;
    const missing = anchor.seq === last + 1 ? `${anchor.seq}` : `${last + 1} to ${anchor.seq}`;
    return {
      broken: {
        eventId: null,
        seq: last + 1,
        problem: `is missing: the trail ends at ${last}, but a signed head shows it reached ${anchor.seq} (events ${missing} were deleted)`,
      },
    };
  }
}
