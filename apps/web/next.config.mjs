import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  // A self-contained server (server.js + the node_modules it needs) for a small runtime image.
  output: "standalone",
  // Trace files from the monorepo root so workspace packages end up in the standalone output.
  outputFileTracingRoot: path.join(here, "../.."),
  // Workspace packages ship TypeScript sources; Next compiles them like the app's own code.
  transpilePackages: ["@shipyard/api-client"],
  poweredByHeader: false,
  eslint: { ignoreDuringBuilds: true },
};

export default nextConfig;
