#!/usr/bin/env node
// Entry point of the `emseg` command: loads TypeScript sources through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../cli/run.ts');
process.exitCode = await runCli(process.argv.slice(2));
