// The web dashboard (public face): its HTTP server for `tailscale serve`, the viewer identity
// and the request checks it applies before any route.
export { startDashboardServer, type DashboardServer, type DashboardServerOptions } from './server.js';
export { identifyViewer, forwardedFor, type ViewerDeps } from './viewer.js';
export { validHost, checkStateChange, csrfToken, refuseFunnel, checkHost, CSRF_HEADER, type HostNames } from './request-checks.js';
export { DashboardError, type DashboardErrorCode } from './errors.js';
