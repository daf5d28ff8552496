/** Every preparer, one module per area. */
export * from "./rw.ts";
