/** Every preparer (liburing's io_uring_prep_* names, TS-cased), one module per area, and their helper structs. */
export * from "./rw.ts";
export * from "./fs.ts";
export * from "./net.ts";
export * from "./poll.ts";
export * from "./timeout.ts";
export * from "./cancel.ts";
export * from "./buffers.ts";
export * from "./xattr.ts";
export * from "./msg-ring.ts";
export * from "./futex.ts";
export * from "./cmd.ts";
export * from "./misc.ts";
export * from "./timespec.ts";
export * from "./sockaddr.ts";
export * from "./structs.ts";
export * from "./cqe-flags.ts";
