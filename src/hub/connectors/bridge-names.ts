// How an MCP tool name becomes a bridge operation name (the manifest's name grammar).
export function bridgeOperationName(tool: string): string {
  const n = tool.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  return /^[a-z]/.test(n) ? n.slice(0, 63) : `t_${n}`.slice(0, 63);
}
