/**
 * `uring-bench info` is now an alias of `doctor` (cli/doctor.ts); these names
 * stay for code that imported them.
 */
export { collectDoctor as collectInfo, doctorCommand as infoCommand } from "./doctor.ts";
