// Writing a frame given in pieces (wire's encodeFramePieces) as one vectored write.
import type { Socket } from 'node:net';

/**
 * Hands the pieces to the socket corked, so they leave in one writev, not one write each;
 * `done` runs once the last piece has been handed to the kernel (or the write failed).
 */
export function writeFrame(socket: Socket, pieces: readonly Uint8Array[], done?: (err?: Error | null) => void): void {
  const last = pieces.length - 1;
  if (last === 0) {
    socket.write(pieces[0]!, done);
    return;
  }
  socket.cork();
  for (let i = 0; i < last; i++) socket.write(pieces[i]!);
  socket.write(pieces[last]!, done);
  socket.uncork();
}
