import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { KeyStoreService } from './key-store.service';
import { SigningKey } from './signing-key.entity';
import { TokenIssuerService } from './token-issuer.service';
import { TokenVerifierService } from './token-verifier.service';

export const TOKENS_ENTITIES = [SigningKey];

@Module({
  imports: [TypeOrmModule.forFeature(TOKENS_ENTITIES), AuditModule],
  providers: [KeyStoreService, TokenIssuerService, TokenVerifierService],
  exports: [KeyStoreService, TokenIssuerService, TokenVerifierService],
})
export class TokensModule {}
