// Waiting for tailscaled to be usable. NoState and Starting pass by themselves, NeedsMachineAuth
// once an admin approves the device, NeedsLogin and Stopped once the user acts (ipn/backend.go
// State); a missing socket once tailscaled starts. Each change of condition is reported once,
// so a daemon can say plainly what it waits for instead of exiting.
import { backendStateAdvice, isTransientBackendState, TailscaleError, TailscaleNotLoggedInError, TailscaleUserspaceError } from './errors.js';
import type { LocalApiClient } from './local-api-client.js';
import { NotifyWatch } from './local-api-client.js';
import type { TailscaleStatus } from './model.js';

export interface TailscaledCondition {
  /** BackendState, or "Unreachable" when the socket does not answer. */
  state: string;
  /** State will pass by itself (NoState, Starting, NeedsMachineAuth, or a restarting daemon). */
  transient: boolean;
  /** What the user should do, in words. */
  advice: string;
  /** Login URL while NeedsLogin, when tailscaled has one. */
  authUrl?: string;
  /** The typed error code behind "Unreachable" (TS_NOT_RUNNING, TS_PERMISSION, ...). */
  errorCode?: string;
}

export interface WaitRunningOptions {
  signal?: AbortSignal;
  /** Called once per change of condition while waiting. */
  onCondition?: (c: TailscaledCondition) => void;
  /** Give up after this long (default: never) with the last error. */
  timeoutMs?: number;
  /** Longest pause between tries while the socket is down (default 5000 ms). */
  maxRetryMs?: number;
}

/** The condition a status answer describes. */
export function conditionOf(status: Pick<TailscaleStatus, 'backendState' | 'authUrl'>): TailscaledCondition {
  const c: TailscaledCondition = {
    state: status.backendState,
    transient: isTransientBackendState(status.backendState),
    advice: status.backendState === 'Running' ? 'connected' : backendStateAdvice(status.backendState),
  };
  if (status.authUrl) c.authUrl = status.authUrl;
  return c;
}

export function unreachableCondition(err: TailscaleError): TailscaledCondition {
  // A daemon that is down is usually restarting (service managers bring it back).
  return { state: 'Unreachable', transient: err.code === 'TS_NOT_RUNNING' || err.code === 'TS_TIMEOUT', advice: err.message, errorCode: err.code };
}

/**
 * Resolves with the status once BackendState is Running; throws TS_USERSPACE right away when
 * tailscaled has no TUN device, and on timeout the error of the last condition seen.
 */
export async function waitForRunning(client: LocalApiClient, opts: WaitRunningOptions = {}): Promise<TailscaleStatus> {
  const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
  const maxRetry = opts.maxRetryMs ?? 5000;
  let lastKey = '';
  let lastError: TailscaleError | undefined;
  let backoff = 100;
  const report = (c: TailscaledCondition): void => {
    const key = `${c.state}|${c.errorCode ?? ''}`;
    if (key !== lastKey) {
      lastKey = key;
      opts.onCondition?.(c);
    }
  };
  while (!opts.signal?.aborted) {
    let status: TailscaleStatus | undefined;
    try {
      status = await client.status({ allowNotRunning: true });
    } catch (err) {
      if (!(err instanceof TailscaleError)) throw err;
      lastError = err;
      report(unreachableCondition(err));
    }
    if (status) {
      if (status.backendState === 'Running') {
        if (!status.tun) throw new TailscaleUserspaceError();
        return status;
      }
      lastError = new TailscaleNotLoggedInError(status.backendState);
      report(conditionOf(status));
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    if (status) {
      // Reachable: the ipn bus says when the state moves, so no polling.
      await nextStateChange(client, status.backendState, Math.min(left, 60_000), opts.signal);
      backoff = 100;
    } else {
      await pause(Math.min(backoff, left), opts.signal);
      backoff = Math.min(backoff * 2, maxRetry);
    }
  }
  throw lastError ?? new TailscaleNotLoggedInError('NoState');
}

/** Resolves when the ipn bus reports a state other than `from`, the stream ends, or `ms` pass. */
async function nextStateChange(client: LocalApiClient, from: string, ms: number, signal?: AbortSignal): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const onAbort = (): void => ac.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const n of client.watch({ signal: ac.signal, mask: NotifyWatch.initialState })) {
      if (n.state !== undefined && n.state !== from) return;
      if (n.loginFinished) return;
    }
  } catch {
    // The stream broke (daemon restarting): the caller re-reads status.
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    ac.abort();
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
