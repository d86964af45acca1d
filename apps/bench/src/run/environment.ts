/** The machine a run measured: CPU, cores, OS, Node, memory, load. */
import { availableParallelism, cpus, hostname, loadavg, release, totalmem, arch, platform } from 'node:os';
import type { Environment } from './types.js';

export function collectEnvironment(threads: number | null): Environment {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    availableParallelism: availableParallelism(),
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    os: { platform: platform(), release: release(), arch: arch() },
    node: process.version,
    v8: process.versions.v8,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    threads,
    hostname: hostname(),
  };
}
