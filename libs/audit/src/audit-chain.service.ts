import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { AuditEventRepository } from './audit-event.repository';
import { ChainChecker, ChainVerdict, StoredLink } from './audit-chain';
import { CheckpointKeys, serviceKeysTrust } from './audit-checkpoint';
import { ChainAnchor, readSignedHead, SignedHead, signHead } from './audit-head';

const PAGE = 500;

/** An event as the chain covers it (the stored instant as epoch ms). */
export function storedLink(event: AuditEvent): StoredLink {
  return { ...event, occurredAt: event.occurredAt.getTime() };
}

/** Checks the stored trail against its hash chain and the chain head the service keeps. */
@Injectable()
export class AuditChainService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly events: AuditEventRepository,
  ) {}

  /**
   * `keys`: the service's own keys, the only ones a retention checkpoint's (or a head's) signature may rely on here.
   * `signedHead`: a head kept outside the database (see audit-head.ts); the trail must still contain it. A head
   * whose signature does not verify with one of the service's keys is refused (InvalidRequest), never ignored.
   */
  async verify(keys: CheckpointKeys, signedHead?: unknown): Promise<ChainVerdict> {
    const trust = serviceKeysTrust(await keys.trustedCheckpointKeys());
    let anchor: ChainAnchor | undefined;
    if (signedHead !== undefined) {
      const read = readSignedHead(signedHead, trust);
      if (!read.ok) throw new AppError(ErrorCode.InvalidRequest, `the audit head given ${read.problem}`);
      anchor = read.head;
    }
    const checker = new ChainChecker(trust, anchor);
    // Rows without a position were never appended by the service: the oldest of them is the first bad one.
    const stray = await this.uow.run((tx) => this.events.firstUnchained(tx));
    if (stray) checker.add(storedLink(stray));
    // The chain up to the head as it is now; events appended while this runs are checked by the next run.
    const head = await this.head();
    let after = 0;
    while (!stray) {
      const from = after;
      const page = await this.uow.run((tx) => this.events.chainPage(tx, from, head.seq, PAGE));
      if (!page.every((event) => checker.add(storedLink(event)))) break;
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      after = last.seq!;
    }
    const verdict = checker.finish(head);
    if (verdict.ok) {
      // A row placed past the head was not appended by the service (the head moves with every append).
      const now = await this.head();
      const beyond = await this.uow.run((tx) => this.events.firstAfter(tx, now.seq));
      if (beyond)
        return {
          ok: false,
          events: verdict.events + 1,
          broken: {
            eventId: beyond.id,
            seq: beyond.seq,
            problem: 'was not written by the service (it lies past the chain head)',
          },
        };
      return verdict;
    }
    if (verdict.broken.eventId === null && verdict.broken.seq !== null) {
      // Name the event standing where the chain breaks, when there is one.
      const seq = verdict.broken.seq;
      const at = await this.uow.run((tx) => this.events.atSeq(tx, seq));
      if (at) verdict.broken.eventId = at.id;
    }
    return verdict;
  }

  /** The chain's head now, signed by the active signing key, to be kept outside the database. */
  async signedHead(keys: CheckpointKeys, now = new Date()): Promise<SignedHead> {
    // Fetched before the unit (a key read must not run inside it on SQLite's one connection).
    const sign = await keys.checkpointSigner();
    const { head, occurredAt } = await this.uow.run((tx) => this.events.headWithTime(tx));
    return signHead(head, occurredAt, sign, now);
  }

  /** The position and hash of the last event the service appended. */
  async head(): Promise<{ seq: number; hash: string }> {
    return this.uow.run((tx) => this.events.head(tx));
  }
}
