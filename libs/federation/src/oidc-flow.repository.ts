import { Injectable } from '@nestjs/common';
import { SingleUseRows, Tx } from '@app/persistence';
import { OidcFlow } from './oidc-flow.entity';

/** Sign-ins in flight at the provider: one is taken once, by the `state` its callback presents. */
@Injectable()
export class OidcFlowRepository extends SingleUseRows<OidcFlow> {
  constructor() {
    super(OidcFlow, 'oidc_flows', 'DELETE FROM oidc_flows WHERE state = ? RETURNING *');
  }

  take(tx: Tx, state: string): Promise<OidcFlow | null> {
    return this.takeOnce(tx, [state]);
  }
}
