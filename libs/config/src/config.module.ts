import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, loadAppConfig } from './app-config';
import { CLOCK, systemClock } from './clock';

export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class AppConfigModule {
  /** Validate once; an already-built config (tests, CLI) can be passed in instead of the environment. */
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config ?? loadAppConfig(process.env) },
        { provide: CLOCK, useValue: systemClock },
      ],
      exports: [APP_CONFIG, CLOCK],
    };
  }
}
