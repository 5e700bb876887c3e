import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext, AuditService } from '@app/audit';
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
    private readonly audit: AuditService,
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
    const login = await this.authentication.verify(audit, body.response as never);
    const token = await this.tokens.issueUserToken(login);
    await this.audit.record(
      { ...audit, actorType: 'user', actorId: login.userId },
      { type: 'token.issued', outcome: 'success', subjectType: 'user', subjectId: login.userId, details: { grant: 'webauthn', expiresIn: token.expires_in } },
    );
    return token;
  }
}
