// Typed errors of the dev-tailnet emulator.

export type DevTailnetErrorCode =
  | 'DEV_TAILNET_BAD_DESCRIPTION'
  | 'DEV_TAILNET_UNKNOWN_DEVICE'
  | 'DEV_TAILNET_BAD_ARGUMENT'
  | 'DEV_TAILNET_SOCKET'
  | 'DEV_TAILNET_STOPPED'
  | 'DEV_TAILNET_CONTROL';

export class DevTailnetError extends Error {
  readonly code: DevTailnetErrorCode;
  constructor(code: DevTailnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DevTailnetError';
    this.code = code;
  }
}
