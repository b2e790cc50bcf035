/* Reading the text chunks of a PNG (tEXt, zTXt, iTXt) with a small chunk walker over zlib, so
 * that loading a preset from an exported figure needs no libpng and no ui code, and a hostile
 * file cannot make the reader allocate more than it holds:
 *   - the file is read only if it is a regular file of at most CL_PNG_TEXT_MAX_FILE bytes;
 *   - every chunk's declared length is checked against what is left of the file before anything
 *     is allocated (a 599-byte file declaring a 2 GB tEXt is refused at once);
 *   - every chunk's CRC is checked;
 *   - IHDR is checked (sizes up to 1,000,000 pixels a side, valid depth/colour type) and the
 *     image data must inflate to exactly the size IHDR implies (a broken zlib stream is refused);
 *   - a compressed text inflates to at most CL_PNG_TEXT_MAX_VALUE bytes;
 *   - the file must end with IEND (a truncated file is refused).
 * Keys and values come back as UTF-8 (tEXt/zTXt are Latin-1; iTXt is made valid UTF-8); when a
 * key repeats, the first chunk wins. Pure C + GLib + zlib. */
#pragma once
#include <glib.h>

#include "engine/base/cl_params.h"

#define CL_PNG_TEXT_MAX_FILE (256u * 1024u * 1024u)
#define CL_PNG_TEXT_MAX_VALUE (16u * 1024u * 1024u)

#define CL_PNG_TEXT_ERROR (cl_png_text_error_quark ())
GQuark cl_png_text_error_quark (void);
typedef enum
{
  CL_PNG_TEXT_ERROR_CORRUPT,   /* not a PNG, truncated, bad CRC, bad chunk, too large */
  CL_PNG_TEXT_ERROR_NO_CONFIG, /* a valid PNG without a contrastlab:config chunk */
} ClPngTextError;

/* The text chunks of the PNG in data[0..len) as a table key -> value (both UTF-8; free with
 * g_hash_table_unref). source names the file in messages. NULL with error set
 * (CL_PNG_TEXT_ERROR_CORRUPT, one line naming source and what is wrong). */
GHashTable *cl_png_text_parse (const guint8 *data, gsize len, const char *source, GError **error);

/* The same from a file. Errors reading it are G_FILE_ERROR (cl_file_read_regular). */
GHashTable *cl_png_text_read (const char *path, GError **error);

/* The contrastlab:config text of an exported figure. Errors: G_FILE_ERROR, CL_PNG_TEXT_ERROR. */
char *cl_png_text_read_config (const char *path, GError **error);

/* Applies a preset to cfg: a NAME from the presets folder, an .ini file, or a PNG exported by
 * ContrastLab (its contrastlab:config chunk). Every failure is CL_CONFIG_ERROR (bad input: the
 * CLI exits 2), one line naming the file. */
gboolean cl_config_apply_preset (ClConfig *cfg, const char *name_or_file, GError **error);
