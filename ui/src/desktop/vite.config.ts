// Builds the desktop entry into the web build: `npx vite build --config src/desktop/vite.config.ts`
// after `npm run build` (it adds dist/src/desktop/index.html and its assets; it does not empty
// dist). The Tauri shell embeds ui/dist and opens this entry.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const ui = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root: ui,
  base: './',
  plugins: [react()],
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: { desktop: fileURLToPath(new URL('./index.html', import.meta.url)) },
    },
  },
});
