import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule, CheckpointKeys } from '@app/audit';
import { KeyStoreService } from './key-store.service';
import { SigningKey } from './signing-key.entity';
import { SigningKeyRepository } from './signing-key.repository';
import { TokenIssuerService } from './token-issuer.service';
import { TokenVerifierService } from './token-verifier.service';

export const TOKENS_ENTITIES = [SigningKey];

@Module({
  imports: [TypeOrmModule.forFeature(TOKENS_ENTITIES), AuditModule],
  // The key store is also what signs and verifies audit retention checkpoints (libs/audit cannot import it).
  providers: [
    SigningKeyRepository,
    KeyStoreService,
    TokenIssuerService,
    TokenVerifierService,
    { provide: CheckpointKeys, useExisting: KeyStoreService },
  ],
  exports: [KeyStoreService, TokenIssuerService, TokenVerifierService, CheckpointKeys],
})
export class TokensModule {}
