import { Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { CLOCK, Clock } from '@app/config';
import { Audit } from '../../http/audit-context.decorator';
import { AdminController } from '../admin-controller.decorator';
import { AccessReviewQuery, PeopleQuery } from './access-review.dto';
import { AccessReviewService, DEFAULT_REVIEW_DAYS } from './access-review.service';
import { AccessReview, AccessReviewPerson } from './access-review.views';

@AdminController('reports')
export class AdminReportsController {
  constructor(
    private readonly reviews: AccessReviewService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('access-review')
  @ApiOperation({
    summary:
      'Access review: people (groups, status, sign-ins, passkeys), service accounts, dormant and disabled accounts, key rotations, failed sign-ins and the signed audit chain head, read in one transaction (audited as report.access_review)',
  })
  @ApiOkResponse({ type: AccessReview })
  accessReview(@Query() query: AccessReviewQuery, @Audit() context: AuditContext): Promise<AccessReview> {
    return this.reviews.report(context, {
      since: query.since ? new Date(query.since) : undefined,
      dormantDays: query.dormantDays ?? DEFAULT_REVIEW_DAYS,
      now: this.clock.now(),
    });
  }

  @Get('people')
  @ApiOperation({
    summary:
      "Every person with groups, status, last sign-in (when and how), passkeys and dormancy: the access review's people section alone (what `airflow users list` shows)",
  })
  @ApiOkResponse({ type: [AccessReviewPerson] })
  people(@Query() query: PeopleQuery): Promise<AccessReviewPerson[]> {
    return this.reviews.people(query.dormantDays ?? DEFAULT_REVIEW_DAYS, this.clock.now());
  }
}
