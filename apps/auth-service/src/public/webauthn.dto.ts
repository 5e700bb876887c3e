import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Equals,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Optional } from '../http/optional';
import { PASSKEY_LABEL_MAX_LENGTH } from '@app/webauthn';

/*
 * Our own request fields use Optional(): absent is fine, null is not. The authenticator's output fields keep
 * IsOptional(): clients serialise an absent userHandle or authenticatorAttachment as null, and null there means absent.
 */
const B64URL = /^[A-Za-z0-9_-]+$/;
const b64 = (field: string) => ({ message: `${field} must be base64url` });

/*
 * Shapes of the JSON that @simplewebauthn/browser produces. Declared field by field so that the global
 * whitelist/forbidNonWhitelisted pipe can refuse anything else; the cryptographic checks happen in the library.
 */

class AttestationResponseDto {
  @IsString() @Matches(B64URL, b64('response.clientDataJSON')) @MaxLength(8192) clientDataJSON: string;
  @IsString() @Matches(B64URL, b64('response.attestationObject')) @MaxLength(32768) attestationObject: string;
  @IsOptional()
  @IsString()
  @Matches(B64URL, b64('response.authenticatorData'))
  @MaxLength(16384)
  authenticatorData?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(32, { each: true }) transports?: string[];
  @IsOptional() @IsIn([-8, -7, -257, -35, -36, -37, -38, -39, -258, -259, -65535]) publicKeyAlgorithm?: number;
  @IsOptional() @IsString() @Matches(B64URL, b64('response.publicKey')) @MaxLength(4096) publicKey?: string;
}

class AssertionResponseDto {
  @IsString() @Matches(B64URL, b64('response.clientDataJSON')) @MaxLength(8192) clientDataJSON: string;
  @IsString() @Matches(B64URL, b64('response.authenticatorData')) @MaxLength(16384) authenticatorData: string;
  @IsString() @Matches(B64URL, b64('response.signature')) @MaxLength(2048) signature: string;
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]*$/, b64('response.userHandle'))
  @MaxLength(128)
  userHandle?: string;
}

abstract class CredentialDto {
  @ApiProperty({ description: 'credential id, base64url' })
  @IsString()
  @Matches(B64URL, b64('id'))
  @MaxLength(1400)
  id: string;
  @ApiProperty() @IsString() @Matches(B64URL, b64('rawId')) @MaxLength(1400) rawId: string;
  @ApiProperty({ enum: ['public-key'] })
  @Equals('public-key', { message: 'type must be "public-key"' })
  type: 'public-key';
  @IsOptional() @IsIn(['platform', 'cross-platform']) authenticatorAttachment?: 'platform' | 'cross-platform';
  // Extension outputs are free-form by design; nothing in them is trusted.
  @IsObject() clientExtensionResults: Record<string, unknown>;
}

export class RegistrationCredentialDto extends CredentialDto {
  @ValidateNested() @Type(() => AttestationResponseDto) response: AttestationResponseDto;
}

export class AuthenticationCredentialDto extends CredentialDto {
  @ValidateNested() @Type(() => AssertionResponseDto) response: AssertionResponseDto;
}

export class RegistrationOptionsRequest {
  @ApiPropertyOptional({ description: 'the token from an invite link; omit when adding a passkey with a Bearer token' })
  @Optional()
  @IsString()
  @Matches(B64URL, b64('inviteToken'))
  @MaxLength(128)
  inviteToken?: string;
  @ApiPropertyOptional({ description: 'ignored: the username comes from the invite or the token' })
  @Optional()
  @IsString()
  @MaxLength(128)
  username?: string;
  @ApiPropertyOptional() @Optional() @IsString() @MaxLength(256) displayName?: string;
}

export class InviteLookupRequest {
  @ApiProperty({ description: 'the token from an invite link' })
  @IsString()
  @Matches(B64URL, b64('inviteToken'))
  @MaxLength(128)
  inviteToken: string;
}

export class RegistrationVerifyRequest {
  @ApiProperty({ description: 'RegistrationResponseJSON from startRegistration()' })
  @IsObject()
  @ValidateNested()
  @Type(() => RegistrationCredentialDto)
  response: RegistrationCredentialDto;
  @ApiPropertyOptional({
    description: 'a name for the passkey; defaults to the authenticator model',
    maxLength: PASSKEY_LABEL_MAX_LENGTH,
  })
  @Optional()
  @IsString()
  @MaxLength(PASSKEY_LABEL_MAX_LENGTH)
  label?: string;
}

export class AuthenticationOptionsRequest {
  @ApiPropertyOptional({ description: 'omit for a usernameless (discoverable credential) sign-in' })
  @Optional()
  @IsString()
  @MaxLength(128)
  username?: string;
  @ApiPropertyOptional({
    enum: ['required'],
    description:
      'a step-up confirmation: the options ask for user verification and the assertion is refused without it, whatever WEBAUTHN_USER_VERIFICATION says',
  })
  @Optional()
  @IsIn(['required'], { message: "userVerification can only be 'required'" })
  userVerification?: 'required';
}

export class AuthenticationVerifyRequest {
  @ApiProperty({ description: 'AuthenticationResponseJSON from startAuthentication()' })
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationCredentialDto)
  response: AuthenticationCredentialDto;
}
