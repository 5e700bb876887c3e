export { CliSignIn } from './cli-sign-in.entity';
export {
  CliCodesService,
  CreatedCliCode,
  RedeemedCliCode,
  CliSignInState,
  cliSignInState,
  CLI_CODE_TTL_SECONDS,
  CLI_CODE_PREFIX,
} from './cli-codes.service';
export { CliSignInModule, CLI_SIGN_IN_ENTITIES } from './cli-sign-in.module';
export { DeviceAuthorization, DeviceClientKind } from './device-authorization.entity';
export {
  DeviceAuthorizationsService,
  DeviceClient,
  DevicePoll,
  DevicePollError,
  DeviceRequestState,
  DeviceSignIn,
  StartedDeviceAuthorization,
  DEVICE_CODE_TTL_SECONDS,
  displayUserCode,
} from './device-authorizations.service';
