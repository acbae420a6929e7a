#!/usr/bin/env node
// Adds lockfile entries for optional platform-binary packages that this machine's npm registry does not
// serve (other OS/CPU builds of @duckdb/node-bindings and nodejs-polars). npm install silently skips
// an optional dependency it cannot resolve and records nothing, after which `npm ci` refuses the lock
// ("Missing: <pkg> from lock file"). A stub entry carrying the package's os/cpu lets `npm ci` accept the
// lock and skip the package as not for this platform — which it is not.
// Run after every `npm install` that changes package-lock.json: node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm'];
let added = 0;
for (const [key, meta] of Object.entries(pkgs)) {
  for (const [name, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const entry = `node_modules/${name}`;
    if (pkgs[entry] || pkgs[`${key}/${entry}`]) continue;
    const tokens = name.split(/[/-]/);
    const os = OS.find((o) => tokens.includes(o));
    const cpu = CPU.find((c) => tokens.includes(c));
    if (!os || !cpu) throw new Error(`${name}: cannot tell its platform from the name; add its lock entry by hand`);
    const stub = { version: String(range).replace(/^[\^~=]/, ''), optional: true, os: [os], cpu: [cpu] };
    if (meta.dev) stub.dev = true;
    if (tokens.includes('musl')) stub.libc = ['musl'];
    else if (tokens.includes('gnu') || (os === 'linux' && !tokens.includes('musl'))) stub.libc = ['glibc'];
    pkgs[entry] = stub;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platform-stubs: ${added} stub entr${added === 1 ? 'y' : 'ies'} added`);
