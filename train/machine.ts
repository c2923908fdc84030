/** One line describing the machine a figure was measured on (CPU model and count, RAM, Node). */
import { cpus, totalmem } from 'node:os';

export function machineDescription(): string {
  const list = cpus();
  return `${list.length} x ${list[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
}
