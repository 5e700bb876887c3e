import { Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { KeyStoreService } from '@app/tokens';
import { Audit } from '../http/audit-context.decorator';
import { AdminController } from './admin-controller.decorator';
import { signingKeyView } from './views';

@AdminController('keys')
export class AdminKeysController {
  constructor(private readonly keyStore: KeyStoreService) {}

  @Get()
  @ApiOperation({ summary: 'Signing keys with their states (no key material)' })
  async list() {
    return (await this.keyStore.list()).map(signingKeyView);
  }

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate now: next becomes active, active is retired but stays published' })
  rotate(@Audit() audit: AuditContext) {
    return this.keyStore.rotate(audit);
  }
}
