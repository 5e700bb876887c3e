import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { SERVICE_ACCOUNT_SCOPES } from '@app/accounts';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PASSKEY_LABEL_MAX_LENGTH } from '@app/webauthn';
import { Optional } from '../http/optional';

/*
 * Request shapes of the admin and self-service APIs. The global pipe (whitelist + forbidNonWhitelisted) refuses any
 * field not declared here; the services still check names and groups against their own rules.
 */

export class UpdateUserRequest {
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(256) displayName?: string;
  @ApiPropertyOptional({ type: [String] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  groups?: string[];
}

export class RenamePasskeyRequest {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(PASSKEY_LABEL_MAX_LENGTH) label: string;
}

export class CreateInviteRequest {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(128) username: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(256) displayName?: string;
  @ApiPropertyOptional({ type: [String], description: 'only for a new user; an existing user keeps their groups' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  groups?: string[];
  @ApiPropertyOptional({ description: 'lifetime of the link, 60 s to 30 days (default INVITE_TTL_SECONDS)' })
  @Optional()
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  ttlSeconds?: number;
}

export class CreateServiceAccountRequest {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(128) name: string;
  @ApiPropertyOptional({ type: [String] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  groups?: string[];
  @ApiPropertyOptional({
    type: [String],
    enum: SERVICE_ACCOUNT_SCOPES,
    description: 'OAuth scopes; none means no admin API (Airflow REST API through its groups only)',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(8)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  scopes?: string[];
  @ApiPropertyOptional({
    description:
      'An agent: acts for people only under delegations they approved with a passkey; no Airflow access of its own beyond its groups',
  })
  @Optional()
  @IsBoolean()
  agent?: boolean;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] },
    description:
      'Public keys for private_key_jwt client authentication (RFC 7523): a JWK Set of 1-3 Ed25519, P-256 or RSA (2048 bits or more) public keys. With it the account gets no client secret (rotate-secret issues one if needed); a private key is refused',
  })
  @Optional()
  @IsObject()
  jwks?: Record<string, unknown>;
}

export class SetServiceAccountKeysRequest {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The new JWK Set (1-3 public keys); replaces the registered one',
  })
  @IsObject()
  jwks: Record<string, unknown>;
}

const ISO = { strict: true, strictSeparator: true };

/** Filters shared by the paged query and the export. Dates are ISO 8601 instants. */
export class AuditFilterQuery {
  @ApiPropertyOptional({ example: 'passkey.revoked' })
  @Optional()
  @IsString()
  @Matches(/^[a-z0-9_.-]{1,64}$/, { message: 'type must be an event type like passkey.revoked' })
  type?: string;
  @ApiPropertyOptional({ enum: ['success', 'failure'] }) @Optional() @IsIn(['success', 'failure']) outcome?:
    'success' | 'failure';
  @ApiPropertyOptional({
    description:
      'who acted: a username, a service account name or client id, or an id as recorded (user, service account, CLI user)',
  })
  @Optional()
  @IsString()
  @MaxLength(128)
  actor?: string;
  @ApiPropertyOptional({
    description:
      'what was acted on: a username, a service account name or client id, or an id (user, service account, invite, key)',
  })
  @Optional()
  @IsString()
  @MaxLength(128)
  subject?: string;
  @ApiPropertyOptional({ example: '2025-01-01T00:00:00Z' })
  @Optional()
  @IsISO8601(ISO, { message: 'since must be an ISO 8601 date-time' })
  since?: string;
  @ApiPropertyOptional({ example: '2025-02-01T00:00:00Z' })
  @Optional()
  @IsISO8601(ISO, { message: 'until must be an ISO 8601 date-time' })
  until?: string;
}

export class AuditPageQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(500)
  limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @Optional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,256}$/, { message: 'cursor must be a nextCursor value from a previous page' })
  cursor?: string;
}

export class AuditChainBreak {
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the first bad event, when one stands where the chain breaks',
  })
  eventId: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'its position in the chain' }) seq: number | null;
  @ApiProperty({ example: 'was altered (its hash does not match its fields)' }) problem: string;
}

export class AuditChainHead {
  @ApiProperty() seq: number;
  @ApiProperty({ example: '3f2a…' }) hash: string;
}

/** `GET /v1/admin/audit/verify`: the hash chain checked in the database, as `audit verify` does. */
export class AuditVerifyQuery {
  @ApiPropertyOptional({
    description:
      'a signed head kept outside the database (the JSON of GET /audit/head, or its signature): the trail must still contain it',
  })
  @Optional()
  @IsString()
  @MaxLength(4096)
  head?: string;
}

export class AuditAnchor extends AuditChainHead {
  @ApiProperty({ description: 'true when the head lies in the prefix a signed retention checkpoint pruned' })
  pruned: boolean;
}

export class AuditVerifyResult {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'events checked' }) events: number;
  @ApiProperty({ type: AuditChainBreak, nullable: true, description: 'null on an intact trail' })
  broken: AuditChainBreak | null;
  @ApiProperty({ type: AuditChainHead, nullable: true, description: 'the last event of an intact trail' })
  last: AuditChainHead | null;
  @ApiPropertyOptional({ type: AuditAnchor, description: 'with ?head=: where the signed head was found' })
  anchor?: AuditAnchor;
}

export class SignedAuditHead {
  @ApiProperty({ enum: ['audit-head'] }) kind: 'audit-head';
  @ApiProperty() seq: number;
  @ApiProperty() hash: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when the event at seq was written' })
  occurredAt: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) signedAt: string;
  @ApiProperty({
    description: 'compact JWS (typ audit-checkpoint+jws) over the other fields, by the active signing key',
  })
  signature: string;
}
