/**
 * The `observai` command's entry (bin/observai.js runs it: built, or from source in the ObservAI
 * repository). Everything happens in run(); this file only hands it the real process.
 */
import { run } from './cli.ts';
import { nodeIo } from './io.ts';

const code = await run(process.argv.slice(2), nodeIo());
process.exitCode = code;
// Whatever a command left behind (a keep-alive socket, a timer) must not hold the exit. The timer is
// unref'd: a process with nothing left to do exits at once, with its output drained.
setTimeout(() => process.exit(code), 1000).unref();
