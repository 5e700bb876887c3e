import { Injectable } from '@nestjs/common';
import { UsedTokenRows } from '@app/persistence';
import { UsedLogoutToken } from './used-logout-token.entity';

/** The back-channel logout tokens already acted on: of several deliveries of one token, exactly one is claimed. */
@Injectable()
export class UsedLogoutTokenRepository extends UsedTokenRows<UsedLogoutToken> {
  constructor() {
    super(UsedLogoutToken, 'used_logout_tokens');
  }
}
