import { Injectable, Logger } from '@nestjs/common';
import { AuditChainService, AuditContext, AuditService, CheckpointKeys } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { AuthenticatorPolicyService } from '@app/webauthn';
import { buildAccessReview, buildPeople, ComplianceJudge } from './access-review';
import { AccessReviewRepository } from './access-review.repository';
import type { AccessReview, AccessReviewPerson, AuditHeadEvidence } from './access-review.views';

const DAY_MS = 86_400_000;
export const DEFAULT_REVIEW_DAYS = 90;
export const MAX_REVIEW_DAYS = 3660;
/** What the signed audit head says it is, so the signature cannot pass for another kind of statement. */
export const AUDIT_HEAD_PURPOSE = 'access-review.audit-head';

export interface AccessReviewRequest {
  since?: Date;
  dormantDays: number;
  /** The report's end (now); passed in so tests choose it. */
  now: Date;
}

/** An access review: who has access and how they use it, with the audit trail's verified head as evidence. */
@Injectable()
export class AccessReviewService {
  private readonly log = new Logger(AccessReviewService.name);

  constructor(
    private readonly reviews: AccessReviewRepository,
    private readonly chain: AuditChainService,
    private readonly keys: CheckpointKeys,
    private readonly audit: AuditService,
    private readonly policy: AuthenticatorPolicyService,
  ) {}

  /** Compliance is judged from the policy and each owner's groups now; none while no policy is configured. */
  private judge(): ComplianceJudge | undefined {
    if (!this.policy.configured) return undefined;
    return {
      modelName: (aaguid) => this.policy.modelName(aaguid),
      passkey: (passkey, groups) => {
        const found = this.policy.evaluate(passkey, groups);
        if (!found) return { status: 'compliant' };
        const since = passkey.policyNonCompliantSince;
        return {
          status: 'non_compliant',
          reason: found.reason,
          notAllowedAfter: since ? this.policy.graceEnds(since).toISOString() : null,
        };
      },
    };
  }

  async report(context: AuditContext, request: AccessReviewRequest): Promise<AccessReview> {
    const until = request.now;
    const since = request.since ?? new Date(until.getTime() - DEFAULT_REVIEW_DAYS * DAY_MS);
    if (since.getTime() >= until.getTime()) throw new AppError(ErrorCode.InvalidRequest, 'since must be in the past');
    if (until.getTime() - since.getTime() > MAX_REVIEW_DAYS * DAY_MS)
      throw new AppError(ErrorCode.InvalidRequest, `since must be at most ${MAX_REVIEW_DAYS} days ago`);
    const window = { since, until, dormantDays: request.dormantDays };
    // The chain is verified first: the head it signs is then at or before everything the report shows.
    const auditChain = await this.auditHead(until);
    const body = buildAccessReview(await this.reviews.read(since, until), window, this.judge());
    // Who reviewed access is part of the trail (after the read, so a report never contains its own record).
    await this.audit.record(context, {
      type: 'report.access_review',
      outcome: 'success',
      details: { since: since.toISOString(), until: until.toISOString(), dormantDays: request.dormantDays },
    });
    return {
      generatedAt: until.toISOString(),
      period: { since: since.toISOString(), until: until.toISOString() },
      dormantDays: request.dormantDays,
      ...body,
      delegations: { note: 'no delegations: agents acting for people are not part of this deployment yet', items: [] },
      auditChain,
    };
  }

  /** Every person as the access review shows them, without the rest of the review (no chain check, no audit record). */
  async people(dormantDays: number, now: Date): Promise<AccessReviewPerson[]> {
    return buildPeople(await this.reviews.readPeople(), { since: now, until: now, dormantDays }, this.judge());
  }

  /** The verified chain head, signed by the service's active key (the one that signs retention checkpoints). */
  private async auditHead(now: Date): Promise<AuditHeadEvidence> {
    const verdict = await this.chain.verify(this.keys);
    const verifiedAt = now.toISOString();
    if (!verdict.ok) {
      const { broken } = verdict;
      return {
        intact: false,
        events: verdict.events,
        seq: null,
        hash: null,
        problem: `event ${broken.eventId ?? '(none)'} at position ${broken.seq ?? '?'} ${broken.problem}`,
        verifiedAt,
        signature: null,
        signedBy: null,
      };
    }
    const head = verdict.last;
    const fields = {
      purpose: AUDIT_HEAD_PURPOSE,
      seq: head?.seq ?? 0,
      hash: head?.hash ?? null,
      events: verdict.events,
      verifiedAt,
    };
    let signature: string | null = null;
    let signedBy: string | null = null;
    try {
      signature = (await this.keys.checkpointSigner())(fields);
      signedBy = (JSON.parse(Buffer.from(signature.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string })
        .kid;
    } catch (error) {
      // A service with no active key yet cannot sign; the report says the head is unsigned rather than failing.
      this.log.warn(`access review: the audit head could not be signed (${(error as Error).message})`);
    }
    return {
      intact: true,
      events: verdict.events,
      seq: fields.seq,
      hash: fields.hash,
      problem: null,
      verifiedAt,
      signature,
      signedBy,
    };
  }
}
