import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A test scene made by Blender's own Python at run time (no third-party .blend in the
 * repository): a ground plane, a sphere, a cube, a cone, a sun and a point light, a camera;
 * Cycles with a fixed seed, a fixed sample count, no adaptive sampling and no denoising, saved
 * uncompressed (BLEND-5). Used by the testnet, the tests and the README's frame.
 */

/** Parameters of {@link createTestScene}. */
export interface TestSceneOptions {
  readonly width: number
  readonly height: number
  readonly samples: number
  readonly seed: number
  /** Python run last, before saving (tests: e.g. a reference to an outside file). */
  readonly extraPython?: string
}

/** The testnet's scene: 160×120, 16 samples (about 2 s per frame on one core here). */
export const TEST_SCENE: TestSceneOptions = { width: 160, height: 120, samples: 16, seed: 7 }

/** How long Blender may take to build and save the scene. */
const CREATE_TIMEOUT_MS = 60_000

const SCENE_SCRIPT = `
import sys
import bpy
a = sys.argv[sys.argv.index('--') + 1:]
out, width, height, samples, seed = a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4])
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.render.resolution_x = width
scene.render.resolution_y = height
scene.render.resolution_percentage = 100
scene.cycles.device = 'CPU'
scene.cycles.samples = samples
scene.cycles.seed = seed
scene.cycles.use_adaptive_sampling = False
scene.cycles.use_denoising = False
scene.cycles.max_bounces = 4
world = bpy.data.worlds.new('World')
world.color = (0.05, 0.07, 0.12)
scene.world = world

def material(name, rgb, metallic=0.0, roughness=0.5):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    bsdf = m.node_tree.nodes['Principled BSDF']
    bsdf.inputs['Base Color'].default_value = (rgb[0], rgb[1], rgb[2], 1)
    bsdf.inputs['Metallic'].default_value = metallic
    bsdf.inputs['Roughness'].default_value = roughness
    return m

def add(op, mat, **kw):
    op(**kw)
    bpy.context.object.data.materials.append(mat)

add(bpy.ops.mesh.primitive_plane_add, material('ground', (0.8, 0.8, 0.75)), size=30)
add(bpy.ops.mesh.primitive_uv_sphere_add, material('red', (0.8, 0.1, 0.05), roughness=0.3), radius=1, location=(-1.2, 0, 1), segments=48, ring_count=24)
bpy.ops.object.shade_smooth()
add(bpy.ops.mesh.primitive_cube_add, material('blue', (0.1, 0.25, 0.8)), size=1.4, location=(1.4, 0.6, 0.7), rotation=(0, 0, 0.5))
add(bpy.ops.mesh.primitive_cone_add, material('gold', (0.9, 0.65, 0.2), metallic=1.0, roughness=0.25), radius1=0.6, depth=1.4, location=(0.5, -1.6, 0.7))
bpy.ops.object.light_add(type='SUN', location=(4, -4, 8), rotation=(0.6, 0.2, 0.8))
bpy.context.object.data.energy = 3
bpy.ops.object.light_add(type='POINT', location=(-3, -3, 3))
bpy.context.object.data.energy = 300
bpy.ops.object.camera_add(location=(0, -8, 3.6), rotation=(1.17, 0, 0))
scene.camera = bpy.context.object
if len(a) > 5:
    exec(a[5])
bpy.ops.wm.save_as_mainfile(filepath=out, compress=False)
`

/**
 * Builds the test scene with `blender` and returns the .blend's bytes (uncompressed).
 * @throws Error when Blender fails or takes longer than a minute.
 */
export async function createTestScene(
  blender: string,
  o: TestSceneOptions = TEST_SCENE
): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'bitwrk-scene-'))
  try {
    const script = join(dir, 'make-scene.py')
    const out = join(dir, 'scene.blend')
    await writeFile(script, SCENE_SCRIPT)
    const args = [
      '-b',
      '--factory-startup',
      '--disable-autoexec',
      '-noaudio',
      '--python-exit-code',
      '3',
      '-P',
      script
    ]
    args.push('--', out, ...[o.width, o.height, o.samples, o.seed].map(String))
    if (o.extraPython !== undefined) args.push(o.extraPython)
    await new Promise<void>((resolve, reject) => {
      const child = spawn(blender, args, {
        cwd: dir,
        stdio: 'ignore',
        env: { ...process.env, HOME: dir, TMPDIR: dir },
        signal: AbortSignal.timeout(CREATE_TIMEOUT_MS)
      })
      child.once('error', reject)
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`blender could not create the scene (exit ${code})`))
      )
    })
    return new Uint8Array(await readFile(out))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
