import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Where Debian's package installs Blender. */
export const BLENDER_LOCATION = '/usr/bin/blender'

/**
 * The Blender executable: `BLENDER` from the environment, else `blender` on PATH, else
 * undefined. Checked to be executable, not run.
 */
export function findBlender(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    ...(env['BLENDER'] !== undefined && env['BLENDER'] !== '' ? [env['BLENDER']] : []),
    ...(env['PATH'] ?? '')
      .split(delimiter)
      .filter((d) => d !== '')
      .map((d) => join(d, 'blender')),
    BLENDER_LOCATION
  ]
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {
      // not there
    }
  }
  return undefined
}
