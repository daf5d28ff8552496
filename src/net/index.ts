/**
 * The net layer: TCP on the ring. {@link TcpServer} (listener, multishot
 * accept, multishot recv into a provided-buffer ring, queued sends with
 * partial-send handling and backpressure, orderly close) and client
 * connections ({@link connectMany}). The socket preparers themselves live in
 * src/ops; the fused hot-path writers the server uses are in ./prep.ts.
 */
export { TcpServer, TCP_SERVER_DEFAULTS, fastRingOptions, type TcpHandler, type TcpServerOptions, type TcpServerStats } from "./server.ts";
export { CloseReason, TCP_POLICY_DEFAULTS, type CloseReasonName, type TcpPolicy } from "./policy.ts";
export { openListener, localPort, intOption, DEFAULT_BACKLOG, type ListenOptions } from "./listener.ts";
export { connect, connectMany, type ConnectOptions } from "./client.ts";
export { syncBatch, syncOp } from "./sync.ts";
export { ensureFdLimit, raiseFdLimitToHard } from "./limits.ts";
export { prepRecvSelectMultishot, prepSendRaw, prepCancel32x2, prepSetsockopt } from "./prep.ts";
export { SocketType, IpProto, SockOpt, MsgFlags, Shutdown } from "./constants.ts";
export {
  TcpServerGroup,
  type TcpServerGroupOptions,
  type GroupWorkerInfo,
  type GroupWorkerStats,
  type GroupServerOptions,
  type GroupRingOptions,
  type HandlerContext,
  type HandlerFactory,
} from "./group.ts";
