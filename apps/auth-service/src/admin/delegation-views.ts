import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { DelegationHolders, delegationState } from '@app/delegations';
import { Optional } from '../http/optional';

/** An agent acting for a person: what the person's page, the admin page and Airflow's status read show. */
export class DelegationView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['live', 'revoked', 'expired', 'ended'] }) state: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'why a delegation neither revoked nor expired ended (person_disabled, agent_disabled, passkey_revoked, ...)',
  })
  endedBecause: string | null;
  @ApiProperty() userId: string;
  @ApiProperty() username: string;
  @ApiProperty() agentId: string;
  @ApiProperty() agentName: string;
  @ApiProperty() agentClientId: string;
  @ApiProperty({ example: 'dag:read:tag=finance dag:trigger:id=finance_*' }) scope: string;
  @ApiProperty({ type: String, nullable: true, description: 'the delegation a sub-agent acts under' })
  parentId: string | null;
  @ApiProperty({ description: '1: an agent the person approved; 2: a sub-agent under it' }) depth: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) revokedReason: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "the admin's list: when the agent last refreshed its token under it (null: never)",
  })
  lastRefreshedAt?: string | null;
}

export function delegationView(h: DelegationHolders, now: Date): DelegationView {
  const { delegation: d } = h;
  const { state, endedBecause } = delegationState(h, now);
  return {
    id: d.id,
    state,
    endedBecause: endedBecause ?? null,
    userId: h.user.id,
    username: h.user.username,
    agentId: h.agent.id,
    agentName: h.agent.name,
    agentClientId: h.agent.clientId,
    scope: d.scope,
    parentId: d.parentId,
    depth: d.depth,
    createdAt: d.createdAt.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
    revokedAt: d.revokedAt ? d.revokedAt.toISOString() : null,
    revokedReason: d.revokedReason,
  };
}

export class ApproveDelegationRequest {
  @ApiProperty({ description: "the agent's name, client id or id" })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  agent: string;

  @ApiProperty({ example: 'dag:trigger:id=finance_* dag:read:tag=finance' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  scope: string;

  @ApiPropertyOptional({ description: 'how many days (at most DELEGATION_MAX_DAYS, the default)' })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  days?: number;
}
