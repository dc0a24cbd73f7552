import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: suites that start GStreamer and ONNX Runtime compete for them.
    fileParallelism: false,
    reporters: ['default'],
  },
});
