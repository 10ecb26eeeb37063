import type { Command } from 'commander';

export function registerMeshCommands(_program: Command): void {
  // Commands of this area are added as the area lands.
}
