/**
 * Memory given back after big requests (serve/memory-return.ts): the server's sessions run without
 * onnxruntime's CPU arena unless EMSEG_MEMORY_ARENA=1, and the server says at start-up when glibc's
 * setting that returns freed buffers is missing.
 */
import { describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../serve/config.ts';
import { GLIBC_MEMORY_RETURN_ENV, memoryReturnNote, sessionMemoryOptions } from '../serve/memory-return.ts';

describe('memory given back', () => {
  it('turns the arena off by default and on with EMSEG_MEMORY_ARENA=1 or --memory-arena 1', () => {
    expect(resolveServeConfig({}).memoryArena).toBe(0);
    expect(sessionMemoryOptions(resolveServeConfig({}).memoryArena)).toEqual({ enableCpuMemArena: false, enableMemPattern: false });
    expect(sessionMemoryOptions(resolveServeConfig({ EMSEG_MEMORY_ARENA: '1' }).memoryArena)).toEqual({ enableCpuMemArena: true, enableMemPattern: true });
    expect(resolveServeConfig({ EMSEG_MEMORY_ARENA: '1' }, { memoryArena: '0' }).memoryArena).toBe(0);
  });

  it('refuses other values, naming the variable or flag', () => {
    expect(() => resolveServeConfig({ EMSEG_MEMORY_ARENA: '2' })).toThrow(/EMSEG_MEMORY_ARENA/);
    expect(() => resolveServeConfig({ EMSEG_MEMORY_ARENA: 'yes' })).toThrow(/EMSEG_MEMORY_ARENA/);
    expect(() => resolveServeConfig({}, { memoryArena: '-1' })).toThrow(/--memory-arena/);
  });

  it("says at start-up when glibc's setting is missing on Linux, and nothing when it is set", () => {
    expect(memoryReturnNote(0, {}, 'linux')).toMatch(/MALLOC_MMAP_THRESHOLD_=1048576 is not set/);
    expect(memoryReturnNote(0, { MALLOC_MMAP_THRESHOLD_: '' }, 'linux')).toMatch(/is not set/);
    expect(memoryReturnNote(0, { ...GLIBC_MEMORY_RETURN_ENV }, 'linux')).toBeUndefined();
    expect(memoryReturnNote(0, {}, 'darwin')).toBeUndefined();
    expect(memoryReturnNote(1, { ...GLIBC_MEMORY_RETURN_ENV }, 'linux')).toMatch(/arena on/);
  });
});
