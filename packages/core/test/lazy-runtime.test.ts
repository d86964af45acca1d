import { describe, expect, it } from 'vitest';
import { lazyRuntime } from '../src/lazy-runtime.js';

describe('lazyRuntime (the optional-peer loading of the jax-js and tf.layers backends)', () => {
  it('loads once, runs the per-use set-up on every ready(), and available() is true', async () => {
    let loads = 0;
    const uses: number[] = [];
    const rt = lazyRuntime('mine', async () => ({ id: ++loads }), (r) => void uses.push(r.id));
    expect(await rt.available()).toBe(true);
    expect(await rt.ready()).toEqual({ id: 1 });
    expect(loads).toBe(1);
    expect(uses).toEqual([1, 1]);
  });

  it('keeps a failed load: ready() rejects and available() resolves to the same one-line reason', async () => {
    let loads = 0;
    const rt = lazyRuntime('mine', async () => {
      loads++;
      throw new Error('mine needs the optional peer dependency x, which is not installed');
    });
    const reason = 'mine is not available: mine needs the optional peer dependency x, which is not installed';
    expect(await rt.available()).toBe(reason);
    await expect(rt.ready()).rejects.toThrow(reason);
    expect(loads).toBe(1);
  });

  it('a failing per-use set-up is reported the same way', async () => {
    const rt = lazyRuntime('mine', async () => 1, () => {
      throw new Error('device lost');
    });
    expect(await rt.available()).toBe('mine is not available: device lost');
  });
});
