/* PNG export with metadata (text chunks) with libpng, and reading the metadata back.
 * Writes are atomic: a temp file beside the target, fsync, rename; a failed write leaves
 * neither a partial target nor a temp file behind. */
#pragma once
#include <cairo.h>
#include <glib.h>

/* One text chunk. key: 1..79 printable ASCII characters (the PNG keyword rules restricted to
 * ASCII so keys read back byte for byte: no leading, trailing or doubled spaces), e.g. "Software", "Title",
 * "contrastlab:config", "contrastlab:step". value: UTF-8. ASCII values are stored as tEXt, others as iTXt; values
 * longer than CL_PNG_COMPRESS_ABOVE bytes are compressed (zTXt, or compressed iTXt). */
typedef struct
{
  const char *key;
  const char *value;
} ClPngText;

#define CL_PNG_COMPRESS_ABOVE 512

#define CL_PNG_ERROR (cl_png_error_quark ())
GQuark cl_png_error_quark (void);

typedef enum
{
  CL_PNG_ERROR_INVALID, /* bad argument: surface format, text key or value */
  CL_PNG_ERROR_CORRUPT, /* the file is not a readable PNG */
  CL_PNG_ERROR_LIBPNG,  /* libpng refused to encode */
} ClPngError;
/* Failures of the operating system (cannot create, write, sync or rename) are reported in
 * G_FILE_ERROR with the code matching errno. Every message names the path. */

/* Writes an ARGB32 or RGB24 image surface as 8-bit RGBA (cairo's premultiplied alpha is
 * undone) with the given text chunks (texts may be NULL when n_texts is 0). */
gboolean cl_png_write_surface (const char *path, cairo_surface_t *image_surface, const ClPngText *texts, int n_texts,
                               GError **error);

/* Reads every tEXt, zTXt and iTXt chunk (before and after the image data) into a new table
 * key -> value, both UTF-8 (Latin-1 chunks are converted); when a key repeats the first
 * chunk wins. Corrupt or truncated files give CL_PNG_ERROR_CORRUPT. The engine's chunk walker
 * does the reading (engine/store/cl_png_text.h: no libpng, size caps, CRC checks). */
gboolean cl_png_read_text (const char *path, GHashTable **texts_out, GError **error);

/* Renders draw(cr, width, height, data) on a (width*scale) x (height*scale) ARGB32 surface
 * with cairo_scale(scale) applied, so the figure lays out in width x height user units
 * and comes out scale times sharper, then writes it with cl_png_write_surface. */
gboolean cl_png_export_figure (const char *path, int width, int height, double scale,
                               void (*draw) (cairo_t *cr, double width, double height, gpointer data), gpointer data,
                               const ClPngText *texts, int n_texts, GError **error);
