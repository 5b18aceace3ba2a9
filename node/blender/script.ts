/**
 * The Python script a Blender worker runs inside Blender for one tile (BLEND-7): written by the
 * worker into the job's fresh temporary directory under a fixed name and run with
 * `blender -b --factory-startup --disable-autoexec -t N scene.blend --python-exit-code 3 -P
 * render.py -- <args>`. It refuses scenes that reach outside the .blend, checks the tile against
 * the scene's image and the cost against the article's class, forces the settings of BLEND-7
 * (Cycles on the CPU, no denoising, no time-limited sampling, no OSL, no compositor or sequencer
 * — the compositor's File Output node could write anywhere), renders the border of exactly the
 * tile with Blender 3.x's border settings and writes a PNG. Its verdict goes to the status file
 * as one line: `OK` or `<BLENDER_CODE> <message>`.
 *
 * Arguments after `--`: status path, output path, expected .blend path, xmin, ymin, xmax, ymax,
 * frame, max cost. All come from the worker (paths it made, integers it decoded), never from
 * the work as text.
 */
export const RENDER_SCRIPT = `
import os
import sys
import bpy

def main():
    a = sys.argv[sys.argv.index('--') + 1:]
    status_path, out_path, blend_path = a[0], a[1], a[2]
    xmin, ymin, xmax, ymax, frame, max_cost = (int(v) for v in a[3:9])

    def verdict(code, message=''):
        with open(status_path, 'w') as f:
            f.write(code + ' ' + message[:200])

    # BLEND-7: a .blend that failed to load leaves Blender with its factory scene: never render that
    if os.path.realpath(bpy.data.filepath) != os.path.realpath(blend_path):
        return verdict('BLENDER_BAD_BLEND', 'Blender could not read the .blend')
    # BLEND-7: nothing outside the .blend (linked libraries, unpacked images, caches, fonts ...)
    if len(bpy.data.libraries) > 0:
        return verdict('BLENDER_EXTERNAL_FILE', 'the .blend links %d librar(ies)' % len(bpy.data.libraries))
    paths = bpy.utils.blend_paths(absolute=False, packed=False, local=False)
    if len(paths) > 0:
        return verdict('BLENDER_EXTERNAL_FILE', 'the .blend names %d external file(s): pack them' % len(paths))
    scene = bpy.context.scene
    if scene.camera is None:
        return verdict('BLENDER_NO_CAMERA', 'the scene has no camera')
    r = scene.render
    width = r.resolution_x * r.resolution_percentage // 100
    height = r.resolution_y * r.resolution_percentage // 100
    if xmax > width or ymax > height:
        return verdict('BLENDER_TILE_OUTSIDE', 'the image is %dx%d' % (width, height))
    r.engine = 'CYCLES'
    c = scene.cycles
    cost = (xmax - xmin) * (ymax - ymin) * c.samples * (c.max_bounces + 1)
    if cost > max_cost:
        return verdict('BLENDER_WORK_TOO_COSTLY', 'cost %d exceeds the class %d' % (cost, max_cost))
    c.device = 'CPU'
    c.use_denoising = False
    c.use_preview_denoising = False
    c.time_limit = 0
    c.shading_system = False
    for layer in scene.view_layers:
        layer.cycles.use_denoising = False
    r.use_compositing = False
    r.use_sequencer = False
    r.use_stamp = False
    # stereo views would write one file per view
    r.use_multiview = False
    r.use_persistent_data = False
    # dithering adds noise that depends on the pixel's place in the tile: off for seamless tiles
    r.dither_intensity = 0
    # Blender 3.x border (the 2.7x tile settings are gone): fractions of the image, y from the
    # bottom; a quarter pixel inside each bound so that float32 rounding cannot move an edge
    r.use_border = True
    r.use_crop_to_border = True
    r.border_min_x = (xmin + 0.25) / width
    r.border_max_x = min(1.0, (xmax + 0.25) / width)
    r.border_min_y = (ymin + 0.25) / height
    r.border_max_y = min(1.0, (ymax + 0.25) / height)
    image = r.image_settings
    image.file_format = 'PNG'
    image.color_mode = 'RGBA'
    image.color_depth = '8'
    image.compression = 15
    r.use_file_extension = False
    r.filepath = out_path
    scene.frame_set(frame)
    bpy.ops.render.render(write_still=True)
    verdict('OK')

main()
`
