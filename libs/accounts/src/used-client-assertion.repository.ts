import { Injectable } from '@nestjs/common';
import { UsedTokenRows } from '@app/persistence';
import { UsedClientAssertion } from './used-client-assertion.entity';

/** The client assertions already accepted: `claim` is false for a jti seen before, concurrent presentations too. */
@Injectable()
export class UsedClientAssertionRepository extends UsedTokenRows<UsedClientAssertion> {
  constructor() {
    super(UsedClientAssertion, 'used_client_assertions');
  }
}
