/**
 * Runs the CLI on an argv array and returns the exit code, without calling process.exit, so that
 * tests pass argv in and check the result in-process. Errors the user can act on (EmsegError,
 * citty's usage errors, a full disk or a read-only, forbidden or vanished folder while writing)
 * print one line, `emseg: <message>`, and exit 1 without a stack trace; so does a flag the command
 * does not know (cli/options.ts), before the command starts.
 */
import { renderUsage, runCommand, type CommandDef } from 'citty';
import { isEmsegError } from '../core/errors.ts';
import { describeWriteFailure, writeFailureCode } from '../node/write-failure.ts';
import { main } from './main.ts';
import { checkKnownFlags } from './options.ts';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Follows argv down the subcommand tree: the command argv runs (or asks help for) and the words that named it. */
async function resolveCommandFor(argv: string[]): Promise<{ cmd: CommandDef<any>; parent?: CommandDef<any>; path: string[] }> {
  let cmd: CommandDef<any> = main;
  let parent: CommandDef<any> | undefined;
  const path: string[] = [];
  for (const word of argv) {
    if (word.startsWith('-')) break;
    const subs = typeof cmd.subCommands === 'function' ? await cmd.subCommands() : await cmd.subCommands;
    const next = subs?.[word];
    if (!next) break;
    parent = cmd;
    cmd = typeof next === 'function' ? await next() : await next;
    path.push(word);
  }
  return parent ? { cmd, parent, path } : { cmd, path };
}

export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    const { cmd, parent } = await resolveCommandFor(argv);
    io.stdout(`${await renderUsage(cmd, parent)}\n`);
    return 0;
  }
  try {
    // Unknown or misspelled flags are refused before the command does any work.
    const { cmd, path } = await resolveCommandFor(argv);
    const args = typeof cmd.args === 'function' ? await cmd.args() : await cmd.args;
    checkKnownFlags(args ?? {}, argv.slice(path.length), path);
    await runCommand(main, { rawArgs: argv });
    return 0;
  } catch (error) {
    if (isEmsegError(error) || (error instanceof Error && error.name === 'CLIError')) {
      io.stderr(`emseg: ${error.message}\n`);
      return 1;
    }
    // The last resort for a writer whose caller did not name its output (node/write-failure.ts).
    if (writeFailureCode(error) !== undefined) {
      io.stderr(`emseg: file system error: ${describeWriteFailure(error as NodeJS.ErrnoException)}\n`);
      return 1;
    }
    const missing = missingOptionalPackage(error);
    if (missing) {
      io.stderr(`emseg: this command needs ${missing}, an optional dependency of the emseg package: npm install ${missing}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * The optional peer dependency a command could not load (training and conversion need TensorFlow.js,
 * which the package does not install for its users), or undefined for any other error.
 */
function missingOptionalPackage(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find (?:package|module) '(@tensorflow\/[a-z-]+)'/.exec(error.message)?.[1];
}
