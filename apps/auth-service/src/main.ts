import 'reflect-metadata';
import { AppConfig, ConfigValidationError, envFileArgument, loadConfiguration } from '@app/config';
import { createApp, createLogger } from './bootstrap';

/** Usage: `node dist/apps/auth-service/src/main.js [--env-file PATH]` (or `npm start -- --env-file PATH`). */
function configuration(): AppConfig {
  try {
    const args = process.argv.slice(2);
    const unknown = args.filter((a, i) => !a.startsWith('--env-file') && args[i - 1] !== '--env-file');
    if (unknown.length)
      throw new ConfigValidationError([`unknown argument ${unknown[0]} (the only option is --env-file PATH)`]);
    return loadConfiguration({ envFile: envFileArgument(args) });
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = configuration();
  const logger = createLogger(config);
  const app = await createApp(config, logger);
  await app.listen(config.port, config.host);
  logger.log(
    `listening on http://${config.host}:${config.port} (issuer ${config.jwt.issuer}, RP ID ${config.webauthn.rpId}, database ${config.database.type})`,
    'Bootstrap',
  );
}

main().catch((error: unknown) => {
  // One line, no stack: start-up failures are configuration or environment problems an operator has to read.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`auth-service failed to start: ${message.split('\n')[0]}\n`);
  process.exit(1);
});
