import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { AuthenticationVerifyRequest, RegistrationVerifyRequest } from './webauthn.dto';

const SECRET = /^[A-Za-z0-9_-]{43}$/;

export class OidcCallbackRequest {
  @ApiProperty({ description: 'The query string the provider sent to the callback page, as received (without "?")' })
  @IsString()
  @MaxLength(4096)
  query: string;

  @ApiProperty({ description: 'The value the plugin kept in an httponly cookie when the flow started' })
  @IsString()
  @Matches(SECRET, { message: 'binding must be the value returned by /v1/oidc/start' })
  binding: string;

  @ApiProperty({
    type: [String],
    description:
      'The groups Airflow maps to a role (role_mapping, dag_access and team groups). A person in none of them ' +
      'is refused (403 no_role) before any account or passkey step exists.',
  })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  roleGroups: string[];
}

export class PasskeyStepOptionsRequest {
  @ApiProperty({ description: 'The `pending` value the callback returned (kept by the plugin in an httponly cookie)' })
  @IsString()
  @Matches(SECRET, { message: 'pending must be the value returned by /v1/oidc/callback' })
  pending: string;
}

export class PasskeyConfirmRequest extends AuthenticationVerifyRequest {
  @ApiProperty({ description: 'The `pending` value the callback returned' })
  @IsString()
  @Matches(SECRET, { message: 'pending must be the value returned by /v1/oidc/callback' })
  pending: string;
}

export class PasskeyEnrollRequest extends RegistrationVerifyRequest {
  @ApiProperty({ description: 'The `pending` value the callback returned' })
  @IsString()
  @Matches(SECRET, { message: 'pending must be the value returned by /v1/oidc/callback' })
  pending: string;
}

export class BackchannelLogoutRequest {
  @ApiProperty({
    description: "The provider's logout token (OpenID Connect Back-Channel Logout 1.0), relayed by Airflow",
  })
  @IsString()
  @MaxLength(8192)
  logout_token: string;
}
