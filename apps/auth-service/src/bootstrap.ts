import { ConsoleLogger, INestApplication, LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppConfig, effectiveLogFormat } from '@app/config';
import { AppModule } from './app.module';
import { AppErrorFilter } from './http/app-error.filter';
import { documentErrorResponses } from './http/openapi-errors';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest's own start-up chatter (one line per module and route): kept for LOG_LEVEL=debug, out of the normal log. */
const FRAMEWORK_START_UP = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

class ServiceLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && FRAMEWORK_START_UP.has(context)) return super.debug(message, ...rest);
    super.log(message, ...rest);
  }

  /** ISO 8601 UTC, which sorts and greps, rather than the locale's date. */
  protected override getTimestamp(): string {
    return new Date().toISOString();
  }
}

/** JSON lines for collectors; in text mode one plain line per event, coloured only on a terminal. */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>): ConsoleLogger {
  const format = effectiveLogFormat(config);
  return new ServiceLogger({
    json: format === 'json',
    colors: format === 'text' && process.stdout.isTTY === true,
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
    prefix: 'auth-service',
  });
}

/** Builds the HTTP application with every cross-cutting concern applied; used by main.ts and the e2e tests alike. */
export async function createApp(
  config: AppConfig,
  logger: ConsoleLogger | false = createLogger(config),
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: logger === false ? false : logger,
    bodyParser: false,
    // A provider that cannot start (e.g. an MDS blob that does not verify) throws to main.ts, which prints one
    // clear line, instead of Nest exiting the process with its own stack.
    abortOnError: false,
  });
  app.set('trust proxy', config.trustProxy === 'false' ? false : config.trustProxy);
  app.disable('x-powered-by');
  // Express would hash every response body into an ETag: useless for this API (tokens are no-store, nothing is
  // fetched conditionally) and a SHA-1 per request.
  app.set('etag', false);
  app.useBodyParser('json', { limit: '64kb' });
  app.useBodyParser('urlencoded', { limit: '64kb', extended: false });
  app.use(helmet());
  app.useGlobalFilters(new AppErrorFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      validationError: { target: false, value: false },
    }),
  );
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Airflow WebAuthn auth service')
      .setDescription('Passkey enrollment and sign-in, access tokens for Airflow, service accounts and administration.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, documentErrorResponses(document), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
