/**
 * Bun's file imports (`import path from "./x.c" with { type: "file" }`): the value is
 * the file's path, copied beside a bundle or embedded in a compiled binary.
 */
declare module "*.c" {
  const path: string;
  export default path;
}
