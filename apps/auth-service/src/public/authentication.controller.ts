import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { AuthenticatorPolicyService } from '@app/webauthn';
import { Audit } from '../http/audit-context.decorator';
import { PasskeySignIn } from '../sign-in/passkey-sign-in';
import { AuthenticationOptionsRequest, AuthenticationVerifyRequest } from './webauthn.dto';

@ApiTags('webauthn')
@Controller('v1/authentication')
export class AuthenticationController {
  constructor(
    private readonly signIn: PasskeySignIn,
    private readonly policy: AuthenticatorPolicyService,
  ) {}

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
  async verify(@Body() body: AuthenticationVerifyRequest, @Audit() audit: AuditContext) {
    const token = await this.signIn.signIn(audit, body.response);
    // A passkey in its grace period signs in, and the person is told (the login page shows the notice).
    const notice = await this.policy.noticeFor(body.response.id);
    return notice ? { ...token, authenticator_policy: notice } : token;
  }
}
