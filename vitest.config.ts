import { defineConfig } from 'vitest/config';

// Many tests spawn the CLI or tshark several times; on a loaded 2-core machine one such test
// can take longer than vitest's 5 s default without anything being wrong.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
