import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

export class OidcCallbackRequest {
  @ApiProperty({ description: 'The query string the provider sent to the callback page, as received (without "?")' })
  @IsString()
  @MaxLength(4096)
  query: string;

  @ApiProperty({ description: 'The value the plugin kept in an httponly cookie when the flow started' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'binding must be the value returned by /v1/oidc/start' })
  binding: string;
}
