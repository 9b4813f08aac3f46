import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The useStream page of tests/integration/browser-usestream.test.ts, built into the folder the test names (--outDir). */
export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [react()],
  logLevel: "warn",
  build: { emptyOutDir: true, reportCompressedSize: false, sourcemap: false, chunkSizeWarningLimit: 2048 },
});
