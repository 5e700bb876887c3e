import 'reflect-metadata';
import { ConfigValidationError, loadAppConfig } from '@app/config';
import { createApp, createLogger } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  const app = await createApp(config, logger);
  await app.listen(config.port, config.host);
  logger.log(`listening on http://${config.host}:${config.port} (issuer ${config.jwt.issuer}, RP ID ${config.webauthn.rpId}, database ${config.database.type})`, 'Bootstrap');
}

main().catch((error: unknown) => {
  process.stderr.write(`auth-service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
