import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * The authenticator policy (AUTHENTICATOR_POLICY) on stored passkeys:
 * - attestation_trusted: the passkey proved its model at registration (attestation chained to an MDS trust anchor).
 *   False for every passkey registered before this column: none of them was asked for attestation.
 * - policy_non_compliant_since / policy_reason: when the policy first stopped allowing it, and why (the grace period
 *   runs from there). Null while it complies.
 */
export class PasskeyPolicyCompliance1766810000000 implements MigrationInterface {
  name = 'PasskeyPolicyCompliance1766810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('passkeys', [
      new TableColumn({ name: 'attestation_trusted', type: 'boolean', isNullable: false, default: false }),
      new TableColumn({ name: 'policy_non_compliant_since', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'policy_reason', type: 'varchar', length: '64', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('passkeys', 'policy_reason');
    await q.dropColumn('passkeys', 'policy_non_compliant_since');
    await q.dropColumn('passkeys', 'attestation_trusted');
  }
}
