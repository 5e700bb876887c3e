// Nest 12 and jose ship ESM only; Jest on Node 20 cannot require ESM, so swc transforms them too.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const moduleNameMapper = {
  '^@app/(.*)$': '<rootDir>/libs/$1/src/index.ts',
};

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|jose|openid-client|oauth4webapi|file-type|strtok3|token-types|@tokenizer|uint8array-extras)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper,
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/service/**/*.e2e-spec.ts'],
    },
    {
      // Several real service processes on one PostgreSQL (E2E_DATABASE_URL); needs `npm run build` first.
      ...shared,
      displayName: 'multi-instance',
      testMatch: ['<rootDir>/test/multi-instance/**/*.multi-spec.ts'],
    },
    {
      // Real headless Chromium against ONE real stack (auth service + Airflow), started by globalSetup.
      // Run with --runInBand: the tests share that stack and a 2-core machine.
      ...shared,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/test/browser/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/browser/support/global-teardown.ts',
    },
  ],
};
