import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API (npm start in the repository root, port 4000),
// so the app always talks to its own origin, as it does when the API serves dist/.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql': { target: 'http://localhost:4000', ws: true },
      '/dev': 'http://localhost:4000',
    },
  },
});
