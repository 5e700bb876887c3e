// Copies @simplewebauthn/browser's UMD bundle into the Airflow plugin package, so the login page loads it from
// Airflow's own origin (no CDN) and the version is the one pinned in package-lock.json.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// The package exports no ./package.json; find its folder from the resolved entry point instead.
const entry = require.resolve('@simplewebauthn/browser');
const marker = '/node_modules/@simplewebauthn/browser/';
const packageDir = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
const source = join(packageDir, 'dist/bundle/index.umd.min.js');
const target = join(root, 'airflow_plugin/src/airflow_webauthn/static/vendor/simplewebauthn-browser.umd.min.js');
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log(`login page assets: ${target}`);
