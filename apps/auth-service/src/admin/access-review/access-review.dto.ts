import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, Max, Min } from 'class-validator';
import { Optional } from '../../http/optional';

export class PeopleQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 3650,
    default: 90,
    description: 'an account with no sign-in for this many days is dormant',
  })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'dormantDays must be a whole number' })
  @Min(1)
  @Max(3650)
  dormantDays?: number;
}

export class AccessReviewQuery extends PeopleQuery {
  @ApiPropertyOptional({
    example: '2026-10-01',
    description: 'start of the period (date or date-time); default 90 days ago',
  })
  @Optional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date or date-time' })
  since?: string;
}
