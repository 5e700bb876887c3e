export { AppConfig, DatabaseConfig, ConfigValidationError, loadAppConfig } from './app-config';
export { AppConfigModule, APP_CONFIG } from './config.module';
