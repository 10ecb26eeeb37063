// The fcpd daemon entry point. The mesh daemon lands with the mesh layer.
export async function main(_argv: string[]): Promise<void> {
  throw new Error('fcpd: the mesh daemon is not part of this build yet');
}
