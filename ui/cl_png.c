#include "ui/cl_png.h"

#include "engine/base/cl_file.h"
#include "engine/store/cl_png_text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if !defined(PNG_iTXt_SUPPORTED) || !defined(PNG_SETJMP_SUPPORTED)
#error "libpng must support iTXt chunks and setjmp error handling"
#endif

G_DEFINE_QUARK (cl - png - error - quark, cl_png_error)

/* State shared with libpng's callbacks. libpng reports errors by longjmp-ing out of the
 * call that failed, so anything that must be freed afterwards lives here, not in locals. */
typedef struct
{
  ClAtomicFile *out; /* writing: the temp file beside the target */
  int saved_errno;   /* errno of a failed read/write, 0 if libpng itself gave up */
  char message[256]; /* libpng's last error message */
  png_bytep row;     /* scratch row, freed by the caller whatever happened */
} PngIo;

static void
on_png_error (png_structp png, png_const_charp message)
{
  PngIo *io = png_get_error_ptr (png);
  g_strlcpy (io->message, message != NULL ? message : "unknown error", sizeof io->message);
  png_longjmp (png, 1);
}

static void
on_png_warning (png_structp png, png_const_charp message)
{
  /* warnings are about chunks libpng skipped; nothing a user could act on */
  (void) png;
  (void) message;
}

static void
on_png_write (png_structp png, png_bytep data, size_t length)
{
  PngIo *io = png_get_io_ptr (png);
  if (!cl_atomic_file_write (io->out, data, length))
    {
      io->saved_errno = EIO; /* the file keeps the real errno and reports it at commit */
      png_error (png, "write failed");
    }
}

static void
on_png_flush (png_structp png)
{
  (void) png; /* cl_atomic_file writes straight to the descriptor */
}

/* ------------------------------------------------------------------ write */

static gboolean
key_is_valid (const char *key)
{
  size_t n = strlen (key);
  if (n < 1 || n > 79 || key[0] == ' ' || key[n - 1] == ' ')
    return FALSE;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) key[i];
      if (c < 32 || c > 126 || (c == ' ' && key[i + 1] == ' '))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_ascii (const char *s)
{
  for (; *s != '\0'; s++)
    if ((unsigned char) *s >= 0x80)
      return FALSE;
  return TRUE;
}

static void
fill_rgba_row (png_bytep out, const unsigned char *src, int width, gboolean has_alpha)
{
  const uint32_t *pixels = (const uint32_t *) src;
  for (int x = 0; x < width; x++)
    {
      uint32_t p = pixels[x];
      unsigned a = has_alpha ? p >> 24 : 255u;
      unsigned r = (p >> 16) & 0xFFu, g = (p >> 8) & 0xFFu, b = p & 0xFFu;
      if (a == 0)
        r = g = b = 0;
      else if (a < 255)
        {
          /* cairo stores colour premultiplied by alpha; PNG stores it straight */
          r = MIN ((r * 255u + a / 2) / a, 255u);
          g = MIN ((g * 255u + a / 2) / a, 255u);
          b = MIN ((b * 255u + a / 2) / a, 255u);
        }
      out[4 * x + 0] = (png_byte) r;
      out[4 * x + 1] = (png_byte) g;
      out[4 * x + 2] = (png_byte) b;
      out[4 * x + 3] = (png_byte) a;
    }
}

static gboolean
encode (PngIo *io, cairo_surface_t *surface, const ClPngText *texts, int n_texts)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const unsigned char *data = cairo_image_surface_get_data (surface);
  gboolean has_alpha = cairo_image_surface_get_format (surface) == CAIRO_FORMAT_ARGB32;

  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, io, on_png_error, on_png_warning);
  if (png == NULL)
    {
      g_strlcpy (io->message, "out of memory", sizeof io->message);
      return FALSE;
    }
  png_infop info = png_create_info_struct (png);
  png_textp chunks = n_texts > 0 ? g_new0 (png_text, n_texts) : NULL;
  if (info == NULL)
    {
      g_strlcpy (io->message, "out of memory", sizeof io->message);
      png_destroy_write_struct (&png, NULL);
      g_free (chunks);
      return FALSE;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_free (chunks);
      return FALSE;
    }

  png_set_write_fn (png, io, on_png_write, on_png_flush);
  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  /* cairo draws in sRGB; say so, so colour-managed viewers do not guess */
  png_set_sRGB (png, info, PNG_sRGB_INTENT_PERCEPTUAL);
  for (int i = 0; i < n_texts; i++)
    {
      gboolean compress = strlen (texts[i].value) > CL_PNG_COMPRESS_ABOVE;
      chunks[i].key = (png_charp) texts[i].key;
      chunks[i].text = (png_charp) texts[i].value;
      if (is_ascii (texts[i].value))
        chunks[i].compression = compress ? PNG_TEXT_COMPRESSION_zTXt : PNG_TEXT_COMPRESSION_NONE;
      else
        {
          chunks[i].compression = compress ? PNG_ITXT_COMPRESSION_zTXt : PNG_ITXT_COMPRESSION_NONE;
          chunks[i].lang = (png_charp) "";
          chunks[i].lang_key = (png_charp) "";
        }
    }
  if (n_texts > 0)
    png_set_text (png, info, chunks, n_texts);
  png_write_info (png, info);
  for (int y = 0; y < height; y++)
    {
      fill_rgba_row (io->row, data + (size_t) y * (size_t) stride, width, has_alpha);
      png_write_row (png, io->row);
    }
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  g_free (chunks);
  return TRUE;
}

static gboolean
check_arguments (const char *path, cairo_surface_t *surface, const ClPngText *texts, int n_texts, GError **error)
{
  char *display = g_filename_display_name (path);
  gboolean ok = FALSE;
  if (surface == NULL || cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_get_type (surface) != CAIRO_SURFACE_TYPE_IMAGE)
    g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID,
                 "Cannot write “%s”: the figure is not a valid cairo image surface", display);
  else if (cairo_image_surface_get_format (surface) != CAIRO_FORMAT_ARGB32 &&
           cairo_image_surface_get_format (surface) != CAIRO_FORMAT_RGB24)
    g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID,
                 "Cannot write “%s”: the image surface must be ARGB32 or RGB24", display);
  else if (cairo_image_surface_get_width (surface) <= 0 || cairo_image_surface_get_height (surface) <= 0)
    g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID, "Cannot write “%s”: the image is empty (%d x %d)", display,
                 cairo_image_surface_get_width (surface), cairo_image_surface_get_height (surface));
  else if (n_texts < 0 || (n_texts > 0 && texts == NULL))
    g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID, "Cannot write “%s”: %d text chunks given without texts",
                 display, n_texts);
  else
    {
      ok = TRUE;
      for (int i = 0; i < n_texts && ok; i++)
        {
          if (texts[i].key == NULL || !key_is_valid (texts[i].key))
            {
              g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID,
                           "Cannot write “%s”: text key “%s” is not 1-79 printable ASCII "
                           "characters without leading, trailing or double spaces",
                           display, texts[i].key != NULL ? texts[i].key : "(null)");
              ok = FALSE;
            }
          else if (texts[i].value == NULL || !g_utf8_validate (texts[i].value, -1, NULL))
            {
              g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID,
                           "Cannot write “%s”: the value of text key “%s” is %s", display, texts[i].key,
                           texts[i].value == NULL ? "missing" : "not valid UTF-8");
              ok = FALSE;
            }
        }
    }
  g_free (display);
  return ok;
}

gboolean
cl_png_write_surface (const char *path, cairo_surface_t *image_surface, const ClPngText *texts, int n_texts,
                      GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!check_arguments (path, image_surface, texts, n_texts, error))
    return FALSE;
  cairo_surface_flush (image_surface);

  /* atomic: a temp beside the target, fsync, rename (engine/base/cl_file.h) */
  PngIo io = { 0 };
  io.out = cl_atomic_file_new (path, error);
  if (io.out == NULL)
    return FALSE;
  io.row = g_malloc ((size_t) cairo_image_surface_get_width (image_surface) * 4);
  gboolean ok = encode (&io, image_surface, texts, n_texts);
  g_free (io.row);
  if (!ok && io.saved_errno == 0)
    {
      /* libpng itself gave up */
      cl_atomic_file_abort (io.out);
      char *display = g_filename_display_name (path);
      g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_LIBPNG, "Cannot write “%s”: libpng: %s", display, io.message);
      g_free (display);
      return FALSE;
    }
  /* a failed write is remembered by the file: commit reports it with its errno */
  return cl_atomic_file_commit (io.out, CL_FILE_REPLACE_DEFAULT, error);
}

/* ------------------------------------------------------------------- read */

/* The engine's chunk walker (engine/store/cl_png_text.h): no libpng on the read side, hard
 * size caps, CRC checks. Its corrupt-file errors become CL_PNG_ERROR_CORRUPT here. */
gboolean
cl_png_read_text (const char *path, GHashTable **texts_out, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (texts_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  GError *local = NULL;
  *texts_out = cl_png_text_read (path, &local);
  if (*texts_out)
    return TRUE;
  if (local->domain == CL_PNG_TEXT_ERROR)
    {
      g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_CORRUPT, "%s", local->message);
      g_error_free (local);
    }
  else
    g_propagate_error (error, local);
  return FALSE;
}

/* ----------------------------------------------------------------- export */

gboolean
cl_png_export_figure (const char *path, int width, int height, double scale,
                      void (*draw) (cairo_t *cr, double width, double height, gpointer data), gpointer data,
                      const ClPngText *texts, int n_texts, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (draw != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* cairo image surfaces stop at 32767 pixels a side */
  double device_w = ceil (width * scale - 1e-9), device_h = ceil (height * scale - 1e-9);
  if (width <= 0 || height <= 0 || !(scale > 0.0) || !isfinite (scale) || device_w > 32767.0 || device_h > 32767.0)
    {
      char *display = g_filename_display_name (path);
      g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID,
                   "Cannot export “%s”: size %d x %d at scale %g is not between 1 and 32767 pixels a side", display,
                   width, height, scale);
      g_free (display);
      return FALSE;
    }

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) device_w, (int) device_h);
  cairo_t *cr = cairo_create (surface);
  cairo_scale (cr, scale, scale);
  draw (cr, width, height, data);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      char *display = g_filename_display_name (path);
      g_set_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID, "Cannot export “%s”: drawing failed: %s", display,
                   cairo_status_to_string (status));
      g_free (display);
      cairo_surface_destroy (surface);
      return FALSE;
    }
  gboolean ok = cl_png_write_surface (path, surface, texts, n_texts, error);
  cairo_surface_destroy (surface);
  return ok;
}
