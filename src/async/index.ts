/** The async API: `Uring` and what its methods take and return. */
export { Uring, type RwOptions, type PathOptions, type MultishotOptions, type ReadManyOptions } from "./uring.ts";
export { type UringOptions, type OpOptions, type CancelTarget, type SubmitKind } from "./options.ts";
export { UringError } from "./errors.ts";
export { Chain, type ChainOptions, type ChainResult, type ChainStepResult, type ChainStepStatus } from "./chain.ts";
export { MultishotIterator, type RecvLease } from "./multishot.ts";
export { type StatxResult, STATX_BASIC_STATS } from "./statx.ts";
export { type DriverKind, type WakeKind } from "./driver.ts";
export { RingInbox, sendMessage, sendDescriptor, wakeRing, WAKE_USER_DATA, type RingAddress, type RingInboxOptions } from "./ring-messages.ts";
