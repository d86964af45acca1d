/** The machine a run measured: CPU, cores, OS, Node (release line, WebAssembly features), memory, load. */
import { availableParallelism, cpus, hostname, loadavg, release, totalmem, arch, platform } from 'node:os';
import { detectWasmFeatures, nodeSupport } from './node-runtime.js';
import type { Environment } from './types.js';

export async function collectEnvironment(threads: number | null): Promise<Environment> {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    availableParallelism: availableParallelism(),
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    os: { platform: platform(), release: release(), arch: arch() },
    node: process.version,
    v8: process.versions.v8,
    nodeSupport: nodeSupport(process.version),
    wasm: await detectWasmFeatures(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    threads,
    hostname: hostname(),
  };
}
