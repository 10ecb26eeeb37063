// Typed errors of the dev-tailnet emulator.
import { FcpError } from '../../errors/index.js';

export type DevTailnetErrorCode =
  | 'DEV_TAILNET_BAD_DESCRIPTION'
  | 'DEV_TAILNET_UNKNOWN_DEVICE'
  | 'DEV_TAILNET_BAD_ARGUMENT'
  | 'DEV_TAILNET_SOCKET'
  | 'DEV_TAILNET_STOPPED'
  | 'DEV_TAILNET_CONTROL';

export class DevTailnetError extends FcpError {
  declare readonly code: DevTailnetErrorCode;
  constructor(code: DevTailnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
