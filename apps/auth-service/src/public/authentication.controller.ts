import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { TokenIssuerService } from '@app/tokens';
import { AuthenticationService } from '@app/webauthn';
import { Audit } from '../http/audit-context.decorator';
import { AuthenticationOptionsRequest, AuthenticationVerifyRequest } from './webauthn.dto';

@ApiTags('webauthn')
@Controller('v1/authentication')
export class AuthenticationController {
  constructor(
    private readonly authentication: AuthenticationService,
    private readonly tokens: TokenIssuerService,
  ) {}

  @Post('options')
  @HttpCode(200)
  @ApiOperation({ summary: 'Request options; without a username, a usernameless (discoverable) ceremony' })
  options(@Body() body: AuthenticationOptionsRequest) {
    return this.authentication.options(body.username);
  }

  @Post('verify')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Verify the assertion and issue a short-lived access token' })
  async verify(@Body() body: AuthenticationVerifyRequest, @Audit() audit: AuditContext) {
    // The token is signed once every check has passed; it leaves only if the login (and its token.issued event) commits.
    const { issued } = await this.authentication.verify(audit, body.response as never, async (login) => {
      const token = await this.tokens.issueUserToken(login);
      return {
        value: token,
        audit: { context: { ...audit, actorType: 'user', actorId: login.userId }, type: 'token.issued', details: { grant: 'webauthn', expiresIn: token.expires_in } },
      };
    });
    return issued!;
  }
}
