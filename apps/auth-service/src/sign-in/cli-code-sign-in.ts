import { Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { CliCodesService } from '@app/cli-sign-in';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { CommandLineSignIn } from './command-line-sign-in';

/**
 * A person's command line signs in with their username and a one-time CLI code: in ONE unit of work the code is
 * used up (`cli_code.used`), the last sign-in recorded (method `cli`) and the token issued (`token.issued`). A refused code is audited here, once
 * (`cli_code.refused`), with the reason the caller is not told.
 */
@Injectable()
export class CliCodeSignIn {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly codes: CliCodesService,
    private readonly commandLine: CommandLineSignIn,
    private readonly audit: AuditService,
  ) {}

  async signIn(context: AuditContext, username: string, code: string): Promise<TokenResponse> {
    try {
      return await this.uow.run(async (tx) => {
        const redeemed = await this.codes.redeem(tx, context, username, code);
        return this.commandLine.complete(tx, context, redeemed, 'cli_code');
      });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.Unauthenticated) {
        await this.audit.record(context, {
          type: 'cli_code.refused',
          outcome: 'failure',
          reason: error.reason,
          details: { username: username.slice(0, 64) },
        });
      }
      throw error;
    }
  }
}
