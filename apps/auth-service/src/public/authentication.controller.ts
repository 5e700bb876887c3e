import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { Audit } from '../http/audit-context.decorator';
import { PasskeySignIn } from '../sign-in/passkey-sign-in';
import { AuthenticationOptionsRequest, AuthenticationVerifyRequest } from './webauthn.dto';

@ApiTags('webauthn')
@Controller('v1/authentication')
export class AuthenticationController {
  constructor(private readonly signIn: PasskeySignIn) {}

  @Post('options')
  @HttpCode(200)
  @ApiOperation({ summary: 'Request options; without a username, a usernameless (discoverable) ceremony' })
  options(@Body() body: AuthenticationOptionsRequest) {
    return this.signIn.options(body.username, body.userVerification === 'required');
  }

  @Post('verify')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Verify the assertion and issue a short-lived access token' })
  verify(@Body() body: AuthenticationVerifyRequest, @Audit() audit: AuditContext) {
    return this.signIn.signIn(audit, body.response);
  }
}
