import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { AuditContext } from '@app/audit';
import { Audit } from '../http/audit-context.decorator';
import { CliCodeSignIn } from '../sign-in/cli-code-sign-in';

export class CliTokenRequest {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(128) username: string;
  @ApiProperty({ description: 'the one-time code from the Passkeys page (afcli_…)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  code: string;
}

/** A person's command line signs in with a one-time code (relayed by Airflow's `POST /auth/token/cli`). */
@ApiTags('cli')
@Controller('v1/cli')
export class CliTokenController {
  constructor(private readonly signIn: CliCodeSignIn) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Exchange a username and one-time CLI code for an access token naming that command line (cli_sign_in)',
  })
  token(@Body() body: CliTokenRequest, @Audit() audit: AuditContext) {
    return this.signIn.signIn(audit, body.username, body.code);
  }
}
