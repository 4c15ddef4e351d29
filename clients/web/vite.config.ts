// Builds the one page into dist/. The generated code is imported from the repository's gen/ by
// relative paths; `dedupe` makes those files use this package's @bufbuild/protobuf (one copy).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  resolve: { dedupe: ["@bufbuild/protobuf", "@connectrpc/connect"] },
  server: { fs: { allow: ["../.."] } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
