import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by `vigil serve` from dist/dashboard (index.html for every non-API path, /assets/* as files).
// The server's CSP allows no inline script, so nothing here may inline one (Vite emits none for a build).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/dashboard',
    emptyOutDir: true,
    // The chart library (recharts, ~400 kB before gzip) loads only with the health screen.
    chunkSizeWarningLimit: 500,
  },
  server: {
    // `npx vite dashboard` during development talks to a running `vigil serve` (VIGIL_API_URL, default :8080).
    proxy: { '/api': process.env.VIGIL_API_URL ?? 'http://127.0.0.1:8080' },
  },
});
