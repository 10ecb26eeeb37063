// fcp-mesh library API. Layers expose their public faces through their own index.ts.
export * as raptorq from './raptorq/index.js';
