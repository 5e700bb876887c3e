// Reference for both load benchmarks: the service's own HTTP pipeline with handlers that do nothing. It is the real
// application (createApp from the built dist/: helmet, body parsers and their 64 KiB limit, the validation pipe and
// the request DTOs, the limits middleware, the request-log middleware, the error filters, the same routes and parameter
// decorators) in which OAuthController and AuthenticationController are swapped for ones whose handlers return
// ready-made responses: no client authentication, WebAuthn verification, database query, signing or audit.
// What it costs per request is the framework's floor: the part of the service's cost no change to our code removes.
//
// Forked by run-all.mjs with IPC, in the service's environment plus FLOOR_DIST (the dist/ to load), FLOOR_PORT,
// BARE_RESPONSE (the token response to send back) and FLOOR_OPTIONS (a real authentication-options response; each
// answer gets a fresh challenge so the load worker can sign it). Sends {type: 'ready', port} once listening.
'use strict';
require('reflect-metadata');
const { join } = require('node:path');

async function main() {
  const dist = process.env.FLOOR_DIST;
  const port = Number(process.env.FLOOR_PORT);
  const body = JSON.parse(process.env.BARE_RESPONSE);
  const options = JSON.parse(process.env.FLOOR_OPTIONS);
  const { randomBytes } = require('node:crypto');
  const { Body, Controller, Header, HttpCode, Post, Req, UseFilters } = require('@nestjs/common');
  const { AppModule } = require(join(dist, 'apps/auth-service/src/app.module.js'));
  const { createApp, createLogger } = require(join(dist, 'apps/auth-service/src/bootstrap.js'));
  const { OAuthController } = require(join(dist, 'apps/auth-service/src/public/oauth.controller.js'));
  const { AuthenticationController } = require(join(dist, 'apps/auth-service/src/public/authentication.controller.js'));
  const { AuthenticationOptionsRequest, AuthenticationVerifyRequest } = require(
    join(dist, 'apps/auth-service/src/public/webauthn.dto.js'),
  );
  const { OAuthErrorFilter } = require(join(dist, 'apps/auth-service/src/public/oauth-error.js'));
  const { Audit } = require(join(dist, 'apps/auth-service/src/http/audit-context.decorator.js'));
  const { loadAppConfig } = require(join(dist, 'libs/config/src/index.js'));

  // The same decorators as OAuthController.token, applied by hand (this file is not compiled).
  class FloorOAuthController {
    token(_req, _form, _audit) {
      return body;
    }
  }
  const proto = FloorOAuthController.prototype;
  Reflect.defineMetadata('design:paramtypes', [Object, Object, Object], proto, 'token');
  Req()(proto, 'token', 0);
  Body()(proto, 'token', 1);
  Audit()(proto, 'token', 2);
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'token');
  for (const d of [Post('token'), HttpCode(200), Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache')])
    d(proto, 'token', descriptor);
  UseFilters(OAuthErrorFilter)(FloorOAuthController);
  Controller('v1/oauth')(FloorOAuthController);

  // As AuthenticationController: same routes, DTOs (validated by the global pipe), headers and status codes.
  class FloorAuthenticationController {
    options(_body) {
      // Empty allowCredentials (a discoverable ceremony): the load worker's users can all sign it.
      return { ...options, allowCredentials: [], challenge: randomBytes(32).toString('base64url') };
    }
    verify(_body, _audit) {
      return body;
    }
  }
  const auth = FloorAuthenticationController.prototype;
  Reflect.defineMetadata('design:paramtypes', [AuthenticationOptionsRequest], auth, 'options');
  Body()(auth, 'options', 0);
  const optionsDescriptor = Object.getOwnPropertyDescriptor(auth, 'options');
  for (const d of [Post('options'), HttpCode(200)]) d(auth, 'options', optionsDescriptor);
  Reflect.defineMetadata('design:paramtypes', [AuthenticationVerifyRequest, Object], auth, 'verify');
  Body()(auth, 'verify', 0);
  Audit()(auth, 'verify', 1);
  const verifyDescriptor = Object.getOwnPropertyDescriptor(auth, 'verify');
  for (const d of [Post('verify'), HttpCode(200), Header('Cache-Control', 'no-store')])
    d(auth, 'verify', verifyDescriptor);
  Controller('v1/authentication')(FloorAuthenticationController);

  const swap = new Map([
    [OAuthController, FloorOAuthController],
    [AuthenticationController, FloorAuthenticationController],
  ]);
  const forRoot = AppModule.forRoot.bind(AppModule);
  AppModule.forRoot = (config) => {
    const mod = forRoot(config);
    return { ...mod, controllers: mod.controllers.map((c) => swap.get(c) ?? c) };
  };
  const config = loadAppConfig(process.env);
  const app = await createApp(config, createLogger(config));
  await app.listen(port, '127.0.0.1');
  process.send?.({ type: 'ready', port });
}

process.on('disconnect', () => process.exit(0));
main().catch((error) => {
  process.send?.({ type: 'error', message: String(error?.stack ?? error) });
  process.exit(1);
});
