import os from 'node:os';

/** The facts every figure is reported with. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  node: string;
  os: string;
}

/** This machine's CPU model, core count, memory, Node version and OS. */
export function machineFacts(): MachineFacts {
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
