import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { Audit } from '../http/audit-context.decorator';
import { FederatedPasskeyStep } from '../sign-in/federated-passkey-step';
import { FederatedSignIn } from '../sign-in/federated-sign-in';
import {
  BackchannelLogoutRequest,
  OidcCallbackRequest,
  PasskeyConfirmRequest,
  PasskeyEnrollRequest,
  PasskeyStepOptionsRequest,
} from './oidc.dto';

/** Sign-in through the organisation's OpenID provider; the Airflow plugin relays these from Airflow's origin. */
@ApiTags('oidc')
@Controller('v1/oidc')
export class OidcController {
  constructor(
    private readonly signIn: FederatedSignIn,
    private readonly passkeyStep: FederatedPasskeyStep,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Whether sign-in through an identity provider is configured, and its display name' })
  describe() {
    return this.signIn.describe();
  }

  @Post('start')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start a provider sign-in: the authorization URL, and a binding value for an httponly cookie',
  })
  start() {
    return this.signIn.start();
  }

  @Post('callback')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Finish a provider sign-in from the callback query: a token, or the passkey step' })
  callback(@Body() body: OidcCallbackRequest, @Audit() audit: AuditContext) {
    return this.signIn.callback(audit, body.query, body.binding, body.roleGroups);
  }

  @Post('passkey/options')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Options for the passkey step: an assertion restricted to the person's passkeys, or enrollment of the first one",
  })
  passkeyOptions(@Body() body: PasskeyStepOptionsRequest, @Audit() audit: AuditContext) {
    return this.passkeyStep.options(audit, body.pending);
  }

  @Post('passkey/confirm')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Finish a provider sign-in with an assertion of one of the person's passkeys" })
  passkeyConfirm(@Body() body: PasskeyConfirmRequest, @Audit() audit: AuditContext) {
    return this.passkeyStep.verify(audit, body.pending, 'confirm', body.response);
  }

  @Post('passkey/enroll')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Finish a first provider sign-in by enrolling a passkey bound to that account' })
  passkeyEnroll(@Body() body: PasskeyEnrollRequest, @Audit() audit: AuditContext) {
    return this.passkeyStep.verify(audit, body.pending, 'enroll', body.response);
  }

  @Post('backchannel-logout')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Back-channel logout: the provider ended a person's session; their Airflow sessions end too",
  })
  async backchannelLogout(@Body() body: BackchannelLogoutRequest, @Audit() audit: AuditContext) {
    await this.signIn.backchannelLogout(audit, body.logout_token);
    return {};
  }
}
