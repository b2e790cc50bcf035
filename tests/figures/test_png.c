/* PNG export tests: text chunks round trip, pixels round trip (with un-premultiplication),
 * atomic writes that leave nothing behind on failure, and corrupt input. */
#include "ui/cl_png.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <math.h>
#include <png.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static char *
make_temp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("test_png_XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      if (dir != NULL)
        {
          const char *name;
          while ((name = g_dir_read_name (dir)) != NULL)
            {
              char *child = g_build_filename (path, name, NULL);
              remove_tree (child);
              g_free (child);
            }
          g_dir_close (dir);
        }
      g_assert_cmpint (rmdir (path), ==, 0);
    }
  else
    g_assert_cmpint (unlink (path), ==, 0);
}

/* Names in a folder, sorted, joined with "," (for "nothing else was left behind"). */
static char *
list_dir (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  for (guint i = 1; i < names->len; i++)
    for (guint j = i; j > 0 && strcmp (names->pdata[j - 1], names->pdata[j]) > 0; j--)
      {
        gpointer t = names->pdata[j];
        names->pdata[j] = names->pdata[j - 1];
        names->pdata[j - 1] = t;
      }
  g_ptr_array_add (names, NULL);
  char *joined = g_strjoinv (",", (char **) names->pdata);
  g_ptr_array_free (names, TRUE);
  return joined;
}

static void
set_pixel (cairo_surface_t *surface, int x, int y, guint32 argb)
{
  unsigned char *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  ((guint32 *) (data + (size_t) y * stride))[x] = argb;
}

static guint32
get_pixel (cairo_surface_t *surface, int x, int y)
{
  const unsigned char *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  return ((const guint32 *) (data + (size_t) y * stride))[x];
}

/* Decodes a PNG with libpng's low-level API, independently of cl_png.c: returns RGBA bytes
 * and checks that the file is 8-bit RGBA as promised. */
typedef struct
{
  int width, height;
  guint8 *rgba;
  gboolean has_srgb;
} Decoded;

static Decoded
decode_png (const char *path)
{
  Decoded d = { 0 };
  FILE *f = fopen (path, "rb");
  g_assert_nonnull (f);
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  g_assert_nonnull (png);
  g_assert_nonnull (info);
  if (setjmp (png_jmpbuf (png)))
    g_assert_not_reached ();
  png_init_io (png, f);
  png_read_info (png, info);
  g_assert_cmpint (png_get_bit_depth (png, info), ==, 8);
  g_assert_cmpint (png_get_color_type (png, info), ==, PNG_COLOR_TYPE_RGB_ALPHA);
  g_assert_cmpint (png_get_interlace_type (png, info), ==, PNG_INTERLACE_NONE);
  int intent;
  d.has_srgb = png_get_sRGB (png, info, &intent) != 0;
  d.width = (int) png_get_image_width (png, info);
  d.height = (int) png_get_image_height (png, info);
  g_assert_cmpuint (png_get_rowbytes (png, info), ==, (size_t) d.width * 4);
  d.rgba = g_malloc ((size_t) d.width * d.height * 4);
  png_bytep *rows = g_new (png_bytep, d.height);
  for (int y = 0; y < d.height; y++)
    rows[y] = d.rgba + (size_t) y * d.width * 4;
  png_read_image (png, rows);
  png_read_end (png, NULL);
  png_destroy_read_struct (&png, &info, NULL);
  g_free (rows);
  fclose (f);
  return d;
}

/* Chunk types in file order, e.g. "IHDR,sRGB,tEXt,...". */
static char *
chunk_list (const char *path, GHashTable *itxt_compressed)
{
  gchar *bytes;
  gsize length;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_cmpuint (length, >=, 8);
  GString *types = g_string_new (NULL);
  gsize at = 8;
  while (at + 12 <= length)
    {
      const guint8 *p = (const guint8 *) bytes + at;
      guint32 size = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
      g_assert_cmpuint (at + 12 + size, <=, length);
      if (types->len > 0)
        g_string_append_c (types, ',');
      g_string_append_len (types, (const char *) p + 4, 4);
      if (itxt_compressed != NULL && memcmp (p + 4, "iTXt", 4) == 0)
        {
          const char *key = (const char *) p + 8;
          gsize key_len = strnlen (key, size);
          g_assert_cmpuint (key_len + 1, <, size);
          g_hash_table_insert (itxt_compressed, g_strndup (key, key_len),
                               GINT_TO_POINTER (key[key_len + 1] == 1 ? 2 : 1));
        }
      at += 12 + size;
    }
  g_free (bytes);
  return g_string_free (types, FALSE);
}

static cairo_surface_t *
small_surface (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 16, 8);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0.45, 0.7);
  cairo_rectangle (cr, 2, 2, 8, 4);
  cairo_fill (cr);
  cairo_destroy (cr);
  return s;
}

static char *
long_config (void)
{
  GString *config = g_string_new ("# ContrastLab run — τ sweep ✓\n");
  const char *groups[] = { "data", "aug", "loss", "model", "train", "probe" };
  for (int g = 0; g < 6; g++)
    {
      g_string_append_printf (config, "\n[%s]\n", groups[g]);
      for (int k = 0; k < 20; k++)
        g_string_append_printf (config, "key_%d=%d.%03d  # ünïcödé comment %d\n", k, g, k * 7, k);
    }
  return g_string_free (config, FALSE);
}

/* ------------------------------------------------------------- tests */

static void
test_text_round_trip (void)
{
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "figure.png", NULL);
  char *config = long_config ();
  char *long_ascii = g_strnfill (3000, 'a');
  g_assert_cmpuint (strlen (config), >, CL_PNG_COMPRESS_ABOVE);
  const ClPngText texts[] = {
    { "Software", "ContrastLab 0.1.0" }, { "Title", "Loss curves — τ = 0.2, λ = 1" },
    { "contrastlab:config", config },    { "contrastlab:step", "600" },
    { "Comment", long_ascii },           { "Empty", "" },
  };
  cairo_surface_t *surface = small_surface ();
  GError *error = NULL;
  g_assert_true (cl_png_write_surface (path, surface, texts, G_N_ELEMENTS (texts), &error));
  g_assert_no_error (error);

  GHashTable *read = NULL;
  g_assert_true (cl_png_read_text (path, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (read), ==, G_N_ELEMENTS (texts));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_assert_cmpstr (g_hash_table_lookup (read, texts[i].key), ==, texts[i].value);
  g_hash_table_unref (read);

  /* chunk kinds: short ASCII as tEXt, long ASCII as zTXt, UTF-8 as iTXt (long ones
   * compressed), all before the image data so readers that stop early still see them */
  GHashTable *itxt = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char *chunks = chunk_list (path, itxt);
  g_test_message ("chunks: %s", chunks);
  g_assert_true (g_str_has_prefix (chunks, "IHDR,"));
  g_assert_true (g_str_has_suffix (chunks, ",IEND"));
  g_assert_nonnull (strstr (chunks, "sRGB"));
  const char *idat = strstr (chunks, "IDAT");
  g_assert_nonnull (idat);
  for (const char *c = chunks; (c = strstr (c, "TXt")) != NULL; c++)
    g_assert_true (c < idat);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (itxt, "contrastlab:config")), ==, 2);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (itxt, "Title")), ==, 1);
  g_assert_false (g_hash_table_contains (itxt, "Software"));
  g_assert_false (g_hash_table_contains (itxt, "Comment"));
  /* Software, contrastlab:step, Empty as tEXt; Comment as zTXt */
  int n_text = 0, n_ztxt = 0;
  for (const char *c = chunks; (c = strstr (c, "tEXt")) != NULL; c++)
    n_text++;
  for (const char *c = chunks; (c = strstr (c, "zTXt")) != NULL; c++)
    n_ztxt++;
  g_assert_cmpint (n_text, ==, 3);
  g_assert_cmpint (n_ztxt, ==, 1);
  g_free (chunks);
  g_hash_table_unref (itxt);

  /* compression works: the 3000 'a' and the long config take far less than their size */
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, (goffset) (strlen (config) + strlen (long_ascii)) / 2);

  /* nothing else in the folder: the temp file was renamed away */
  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "figure.png");
  g_free (names);

  cairo_surface_destroy (surface);
  g_free (long_ascii);
  g_free (config);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static void
test_text_from_other_writers (void)
{
  /* Latin-1 tEXt and a post-IDAT chunk written by plain libpng come back as UTF-8 */
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "other.png", NULL);
  FILE *f = fopen (path, "wb");
  g_assert_nonnull (f);
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  if (setjmp (png_jmpbuf (png)))
    g_assert_not_reached ();
  png_init_io (png, f);
  png_set_IHDR (png, info, 2, 2, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  png_text before = { 0 };
  before.compression = PNG_TEXT_COMPRESSION_NONE;
  before.key = (png_charp) "Author";
  before.text = (png_charp) "Jos\xE9"; /* Latin-1 e-acute */
  png_set_text (png, info, &before, 1);
  png_write_info (png, info);
  png_byte row[2] = { 10, 200 };
  png_bytep rows[2] = { row, row };
  png_write_image (png, rows);
  png_text after = { 0 };
  after.compression = PNG_TEXT_COMPRESSION_zTXt;
  after.key = (png_charp) "contrastlab:step";
  after.text = (png_charp) "42";
  png_set_text (png, info, &after, 1);
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  fclose (f);

  GHashTable *read = NULL;
  GError *error = NULL;
  g_assert_true (cl_png_read_text (path, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (read, "Author"), ==, "Jos\xC3\xA9");
  g_assert_cmpstr (g_hash_table_lookup (read, "contrastlab:step"), ==, "42");
  g_assert_cmpuint (g_hash_table_size (read), ==, 2);
  g_hash_table_unref (read);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static void
test_pixel_round_trip (void)
{
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "pixels.png", NULL);
  GError *error = NULL;

  /* exact premultiplied pixels: opaque, half transparent, nearly transparent, transparent */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 5, 2);
  cairo_surface_flush (surface);
  const guint32 premultiplied[5] = {
    0xFFD55E00, /* opaque vermillion */
    0x80402000, /* a=128: straight r=64*255/128=127.5, g=32*255/128=63.75, b=0 */
    0x40102030, /* a=64: straight 63.75, 127.5, 191.25 */
    0x01010000, /* a=1: straight r=255 */
    0x00000000, /* transparent */
  };
  for (int x = 0; x < 5; x++)
    {
      set_pixel (surface, x, 0, premultiplied[x]);
      set_pixel (surface, x, 1, 0xFF000000u | (guint32) (x * 50) << 16 | (guint32) (x * 20) << 8 | 7u);
    }
  cairo_surface_mark_dirty (surface);
  g_assert_true (cl_png_write_surface (path, surface, NULL, 0, &error));
  g_assert_no_error (error);
  Decoded d = decode_png (path);
  g_assert_cmpint (d.width, ==, 5);
  g_assert_cmpint (d.height, ==, 2);
  g_assert_true (d.has_srgb);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 5; x++)
      {
        guint32 p = get_pixel (surface, x, y);
        double a = p >> 24;
        const guint8 *got = d.rgba + ((size_t) y * 5 + x) * 4;
        g_assert_cmpint (got[3], ==, (int) a);
        for (int c = 0; c < 3; c++)
          {
            double premult = (p >> (16 - 8 * c)) & 0xFF;
            if (a == 0)
              g_assert_cmpint (got[c], ==, 0);
            else /* rounded to nearest */
              g_assert_cmpfloat (fabs (got[c] - MIN (premult * 255.0 / a, 255.0)), <=, 0.5 + 1e-9);
          }
      }
  g_free (d.rgba);
  cairo_surface_destroy (surface);

  /* a drawn figure with soft edges and varying alpha: re-premultiplying the PNG gives the
   * surface back to within rounding */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 64, 48);
  cairo_t *cr = cairo_create (surface);
  cairo_pattern_t *gradient = cairo_pattern_create_linear (0, 0, 64, 0);
  cairo_pattern_add_color_stop_rgba (gradient, 0, 0.2, 0.4, 0.6, 0.0);
  cairo_pattern_add_color_stop_rgba (gradient, 1, 0.9, 0.1, 0.3, 1.0);
  cairo_set_source (cr, gradient);
  cairo_paint (cr);
  cairo_pattern_destroy (gradient);
  cairo_set_source_rgba (cr, 0.0, 0.6, 0.45, 0.5);
  cairo_arc (cr, 32, 24, 17.3, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  g_assert_true (cl_png_write_surface (path, surface, NULL, 0, &error)); /* replaces */
  g_assert_no_error (error);
  d = decode_png (path);
  g_assert_cmpint (d.width, ==, 64);
  g_assert_cmpint (d.height, ==, 48);
  int semi_transparent = 0;
  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 64; x++)
      {
        guint32 p = get_pixel (surface, x, y);
        int a = (int) (p >> 24);
        const guint8 *got = d.rgba + ((size_t) y * 64 + x) * 4;
        g_assert_cmpint (got[3], ==, a);
        if (a > 0 && a < 255)
          semi_transparent++;
        for (int c = 0; c < 3; c++)
          {
            int premult = (int) ((p >> (16 - 8 * c)) & 0xFF);
            g_assert_cmpint (got[c] == 0 || a > 0, ==, TRUE);
            g_assert_cmpfloat (fabs (got[c] * a / 255.0 - premult), <=, 0.5 * a / 255.0 + 1e-9);
          }
      }
  g_assert_cmpint (semi_transparent, >, 1000);
  g_free (d.rgba);
  cairo_surface_destroy (surface);

  /* RGB24: the unused byte is ignored and alpha is opaque */
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 3, 1);
  cairo_surface_flush (surface);
  set_pixel (surface, 0, 0, 0x12FF0000);
  set_pixel (surface, 1, 0, 0x0000FF00);
  set_pixel (surface, 2, 0, 0xAB0000FF);
  cairo_surface_mark_dirty (surface);
  g_assert_true (cl_png_write_surface (path, surface, NULL, 0, &error));
  g_assert_no_error (error);
  d = decode_png (path);
  const guint8 expected[12] = { 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255 };
  g_assert_cmpmem (d.rgba, 12, expected, 12);
  g_free (d.rgba);
  cairo_surface_destroy (surface);

  /* other formats are refused, and no file appears */
  char *a8_path = g_build_filename (dir, "a8.png", NULL);
  surface = cairo_image_surface_create (CAIRO_FORMAT_A8, 4, 4);
  g_assert_false (cl_png_write_surface (a8_path, surface, NULL, 0, &error));
  g_assert_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, a8_path));
  g_clear_error (&error);
  g_assert_false (g_file_test (a8_path, G_FILE_TEST_EXISTS));
  cairo_surface_destroy (surface);
  g_free (a8_path);

  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "pixels.png");
  g_free (names);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static void
test_invalid_texts (void)
{
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "bad.png", NULL);
  cairo_surface_t *surface = small_surface ();
  char *long_key = g_strnfill (80, 'k');
  const ClPngText bad[][1] = {
    { { "", "x" } },
    { { long_key, "x" } },
    { { " Title", "x" } },
    { { "Two  spaces", "x" } },
    { { "Tab\tkey", "x" } },
    { { "Cl\xC3\xA9", "x" } }, /* non-ASCII key */
    { { "Title", "bad \xFF utf8" } },
    { { "Title", NULL } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GError *error = NULL;
      g_assert_false (cl_png_write_surface (path, surface, bad[i], 1, &error));
      g_assert_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, path));
      g_error_free (error);
    }
  GError *error = NULL;
  g_assert_false (cl_png_write_surface (path, surface, NULL, 2, &error));
  g_assert_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID);
  g_clear_error (&error);
  /* a 79-character key is the longest allowed */
  long_key[79] = '\0';
  const ClPngText ok[] = { { long_key, "fine" } };
  g_assert_true (cl_png_write_surface (path, surface, ok, 1, &error));
  g_assert_no_error (error);
  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "bad.png");
  g_free (names);
  cairo_surface_destroy (surface);
  g_free (long_key);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static void
test_unwritable_folder (void)
{
  char *dir = make_temp_dir ();
  cairo_surface_t *surface = small_surface ();
  const ClPngText texts[] = { { "Title", "x" } };
  GError *error = NULL;

  /* the folder does not exist */
  char *missing = g_build_filename (dir, "no-such-folder", "figure.png", NULL);
  g_assert_false (cl_png_write_surface (missing, surface, texts, 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* the "folder" is a file */
  char *file = g_build_filename (dir, "plain-file", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  char *under_file = g_build_filename (file, "figure.png", NULL);
  g_assert_false (cl_png_write_surface (under_file, surface, texts, 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_assert_nonnull (strstr (error->message, under_file));
  g_clear_error (&error);

  /* the target is a folder: the temp file is written, the rename fails, the temp goes */
  char *folder_target = g_build_filename (dir, "taken", NULL);
  g_assert_cmpint (g_mkdir (folder_target, 0755), ==, 0);
  g_assert_false (cl_png_write_surface (folder_target, surface, texts, 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_assert_nonnull (strstr (error->message, folder_target));
  g_clear_error (&error);

  /* a read-only folder (root ignores permission bits, so only checked as a normal user) */
  char *readonly = g_build_filename (dir, "readonly", NULL);
  g_assert_cmpint (g_mkdir (readonly, 0555), ==, 0);
  char *in_readonly = g_build_filename (readonly, "figure.png", NULL);
  if (geteuid () != 0)
    {
      g_assert_false (cl_png_write_surface (in_readonly, surface, texts, 1, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
      g_assert_nonnull (strstr (error->message, in_readonly));
      g_clear_error (&error);
    }
  else
    g_test_message ("running as root: the read-only folder case is covered by the cases above");

  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "plain-file,readonly,taken");
  g_free (names);
  names = list_dir (folder_target);
  g_assert_cmpstr (names, ==, "");
  g_free (names);
  names = list_dir (readonly);
  g_assert_cmpstr (names, ==, "");
  g_free (names);

  g_assert_cmpint (g_chmod (readonly, 0755), ==, 0);
  cairo_surface_destroy (surface);
  g_free (missing);
  g_free (file);
  g_free (under_file);
  g_free (folder_target);
  g_free (readonly);
  g_free (in_readonly);
  remove_tree (dir);
  g_free (dir);
}

/* A full disk, simulated with a file-size limit: write(2) fails with EFBIG part way, libpng's
 * write callback longjmps out, and the old file must survive untouched. */
static void
test_disk_full (void)
{
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "figure.png", NULL);
  GError *error = NULL;

  cairo_surface_t *small = small_surface ();
  g_assert_true (cl_png_write_surface (path, small, NULL, 0, &error));
  g_assert_no_error (error);
  gchar *before;
  gsize before_len;
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  /* noise does not compress: about 256 KiB of PNG */
  cairo_surface_t *noise = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 256, 256);
  cairo_surface_flush (noise);
  guint32 state = 99;
  for (int y = 0; y < 256; y++)
    for (int x = 0; x < 256; x++)
      {
        state = state * 1664525u + 1013904223u;
        set_pixel (noise, x, y, 0xFF000000u | (state >> 8));
      }
  cairo_surface_mark_dirty (noise);

  struct rlimit saved;
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = 16 * 1024;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limited), ==, 0);
  gboolean ok = cl_png_write_surface (path, noise, NULL, 0, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (ok);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED); /* EFBIG has no own GFileError code */
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
  g_clear_error (&error);

  gchar *after;
  gsize after_len;
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (after, after_len, before, before_len);
  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "figure.png");
  g_free (names);

  /* without the limit the same write succeeds */
  g_assert_true (cl_png_write_surface (path, noise, NULL, 0, &error));
  g_assert_no_error (error);
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 16 * 1024);

  g_free (before);
  g_free (after);
  cairo_surface_destroy (noise);
  cairo_surface_destroy (small);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

static guint32
crc32_png (const guint8 *data, gsize n)
{
  guint32 crc = 0xFFFFFFFFu;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  return crc ^ 0xFFFFFFFFu;
}

/* Rewrites the CRC of the chunk starting at offset, so a corruption reaches the decoder. */
static void
fix_crc (guint8 *bytes, gsize offset)
{
  guint32 size = ((guint32) bytes[offset] << 24) | ((guint32) bytes[offset + 1] << 16) |
                 ((guint32) bytes[offset + 2] << 8) | bytes[offset + 3];
  guint32 crc = crc32_png (bytes + offset + 4, size + 4);
  guint8 *out = bytes + offset + 8 + size;
  out[0] = crc >> 24;
  out[1] = crc >> 16;
  out[2] = crc >> 8;
  out[3] = crc;
}

static gsize
find_chunk (const guint8 *bytes, gsize length, const char *type)
{
  gsize at = 8;
  while (at + 12 <= length)
    {
      guint32 size = ((guint32) bytes[at] << 24) | ((guint32) bytes[at + 1] << 16) | ((guint32) bytes[at + 2] << 8) |
                     bytes[at + 3];
      if (memcmp (bytes + at + 4, type, 4) == 0)
        return at;
      at += 12 + size;
    }
  g_assert_not_reached ();
  return 0;
}

static void
assert_read_fails (const char *path, const guint8 *bytes, gsize length)
{
  GError *error = NULL;
  /* no fsync: thousands of these on a loaded disk took the test past its timeout */
  g_assert_true (
      g_file_set_contents_full (path, (const char *) bytes, (gssize) length, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
  GHashTable *texts = (GHashTable *) (gintptr) 1;
  g_assert_false (cl_png_read_text (path, &texts, &error));
  g_assert_null (texts);
  g_assert_error (error, CL_PNG_ERROR, CL_PNG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
}

static void
test_corrupt (void)
{
  char *dir = make_temp_dir ();
  char *good = g_build_filename (dir, "good.png", NULL);
  char *bad = g_build_filename (dir, "bad.png", NULL);
  GError *error = NULL;
  char *config = long_config ();
  const ClPngText texts[] = { { "Title", "t" }, { "contrastlab:config", config } };
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 40, 30);
  cairo_t *cr = cairo_create (surface);
  cairo_pattern_t *gradient = cairo_pattern_create_radial (20, 15, 1, 20, 15, 25);
  cairo_pattern_add_color_stop_rgba (gradient, 0, 1, 0.5, 0, 1);
  cairo_pattern_add_color_stop_rgba (gradient, 1, 0, 0.2, 0.8, 0.3);
  cairo_set_source (cr, gradient);
  cairo_paint (cr);
  cairo_pattern_destroy (gradient);
  cairo_destroy (cr);
  g_assert_true (cl_png_write_surface (good, surface, texts, 2, &error));
  g_assert_no_error (error);
  cairo_surface_destroy (surface);
  gchar *contents;
  gsize length;
  g_assert_true (g_file_get_contents (good, &contents, &length, NULL));
  guint8 *bytes = (guint8 *) contents;
  guint8 *copy = g_malloc (length);

  /* not a PNG at all, empty, only a signature */
  assert_read_fails (bad, (const guint8 *) "hello, this is text\n", 20);
  assert_read_fails (bad, bytes, 0);
  assert_read_fails (bad, bytes, 8);

  /* every truncation: an error, never a crash or a partial table */
  for (gsize cut = 1; cut < length; cut++)
    assert_read_fails (bad, bytes, cut);

  /* a wrong CRC on a critical chunk */
  memcpy (copy, bytes, length);
  gsize ihdr = find_chunk (copy, length, "IHDR");
  copy[ihdr + 8 + 3] ^= 0x01; /* width, CRC left stale */
  assert_read_fails (bad, copy, length);

  /* a width of zero with a valid CRC */
  memcpy (copy, bytes, length);
  memset (copy + ihdr + 8, 0, 4);
  fix_crc (copy, ihdr);
  assert_read_fails (bad, copy, length);

  /* an absurd size with a valid CRC: refused before any allocation */
  memcpy (copy, bytes, length);
  copy[ihdr + 8] = 0x7F;
  copy[ihdr + 12] = 0x7F;
  fix_crc (copy, ihdr);
  assert_read_fails (bad, copy, length);

  /* broken zlib stream in the image data, CRC fixed so the decoder sees it */
  memcpy (copy, bytes, length);
  gsize idat = find_chunk (copy, length, "IDAT");
  copy[idat + 8] = 0xFF; /* zlib header: invalid method */
  copy[idat + 9] = 0xFF;
  fix_crc (copy, idat);
  assert_read_fails (bad, copy, length);

  /* random single-byte damage with fixed CRCs anywhere after the signature: either the text
   * still reads, or a clean CORRUPT error; never a crash (ASan/UBSan runs check memory) */
  guint32 state = 2024;
  int failures = 0, successes = 0;
  for (int trial = 0; trial < 400; trial++)
    {
      memcpy (copy, bytes, length);
      state = state * 1664525u + 1013904223u;
      gsize at = 8 + (state >> 8) % (length - 8);
      state = state * 1664525u + 1013904223u;
      copy[at] ^= (guint8) (1u + (state >> 24) % 255u);
      /* find the chunk that holds the byte and re-sign it */
      gsize c = 8;
      while (c + 12 <= length)
        {
          guint32 size =
              ((guint32) copy[c] << 24) | ((guint32) copy[c + 1] << 16) | ((guint32) copy[c + 2] << 8) | copy[c + 3];
          if (size > length || at < c + 12 + size)
            {
              if (size <= length - c - 12)
                fix_crc (copy, c);
              break;
            }
          c += 12 + size;
        }
      g_assert_true (
          g_file_set_contents_full (bad, (const char *) copy, (gssize) length, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
      GHashTable *read = NULL;
      if (cl_png_read_text (bad, &read, &error))
        {
          g_assert_no_error (error);
          g_assert_nonnull (read);
          successes++;
          g_hash_table_unref (read);
        }
      else
        {
          g_assert_null (read);
          g_assert_nonnull (error);
          g_assert_true (error->domain == CL_PNG_ERROR);
          g_clear_error (&error);
          failures++;
        }
    }
  g_test_message ("random damage: %d read, %d refused", successes, failures);
  g_assert_cmpint (failures, >, 0);

  /* a missing file is a file error, not a corrupt PNG */
  char *missing = g_build_filename (dir, "missing.png", NULL);
  GHashTable *read = NULL;
  g_assert_false (cl_png_read_text (missing, &read, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);
  g_free (missing);

  /* the untouched file still reads */
  g_assert_true (cl_png_read_text (good, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (read, "contrastlab:config"), ==, config);
  g_hash_table_unref (read);

  g_free (copy);
  g_free (contents);
  g_free (config);
  g_free (good);
  g_free (bad);
  remove_tree (dir);
  g_free (dir);
}

static void
draw_test_figure (cairo_t *cr, double width, double height, gpointer data)
{
  int *calls = data;
  (*calls)++;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  /* a blue square in the top-left quarter, in user units */
  cairo_set_source_rgb (cr, 0, 0, 1);
  cairo_rectangle (cr, 0, 0, width / 2, height / 2);
  cairo_fill (cr);
}

static void
test_export_figure (void)
{
  char *dir = make_temp_dir ();
  char *path = g_build_filename (dir, "export.png", NULL);
  GError *error = NULL;
  int calls = 0;
  const ClPngText texts[] = { { "Software", "ContrastLab test" }, { "contrastlab:step", "12" } };

  g_assert_true (cl_png_export_figure (path, 30, 20, 2.0, draw_test_figure, &calls, texts, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (calls, ==, 1);
  Decoded d = decode_png (path);
  g_assert_cmpint (d.width, ==, 60);
  g_assert_cmpint (d.height, ==, 40);
  /* the square covers device pixels 0..29 x 0..19: drawn in user units, scaled */
  const guint8 *inside = d.rgba + ((size_t) 19 * 60 + 29) * 4;
  const guint8 *outside = d.rgba + ((size_t) 20 * 60 + 30) * 4;
  const guint8 blue[4] = { 0, 0, 255, 255 }, white[4] = { 255, 255, 255, 255 };
  g_assert_cmpmem (inside, 4, blue, 4);
  g_assert_cmpmem (outside, 4, white, 4);
  g_free (d.rgba);
  GHashTable *read = NULL;
  g_assert_true (cl_png_read_text (path, &read, &error));
  g_assert_cmpstr (g_hash_table_lookup (read, "contrastlab:step"), ==, "12");
  g_hash_table_unref (read);

  /* fractional scale rounds the pixel size up */
  g_assert_true (cl_png_export_figure (path, 30, 20, 1.5, draw_test_figure, &calls, NULL, 0, &error));
  d = decode_png (path);
  g_assert_cmpint (d.width, ==, 45);
  g_assert_cmpint (d.height, ==, 30);
  g_free (d.rgba);

  /* nonsense sizes are refused before drawing, and nothing is written */
  char *other = g_build_filename (dir, "other.png", NULL);
  int before = calls;
  const struct
  {
    int w, h;
    double s;
  } bad[] = {
    { 0, 20, 1.0 }, { 30, -1, 1.0 }, { 30, 20, 0.0 }, { 30, 20, NAN }, { 20000, 20, 2.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (
          cl_png_export_figure (other, bad[i].w, bad[i].h, bad[i].s, draw_test_figure, &calls, NULL, 0, &error));
      g_assert_error (error, CL_PNG_ERROR, CL_PNG_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, other));
      g_clear_error (&error);
    }
  g_assert_cmpint (calls, ==, before);
  g_assert_false (g_file_test (other, G_FILE_TEST_EXISTS));
  char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "export.png");
  g_free (names);
  g_free (other);
  g_free (path);
  remove_tree (dir);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/png/text-round-trip", test_text_round_trip);
  g_test_add_func ("/png/text-from-other-writers", test_text_from_other_writers);
  g_test_add_func ("/png/pixel-round-trip", test_pixel_round_trip);
  g_test_add_func ("/png/invalid-texts", test_invalid_texts);
  g_test_add_func ("/png/unwritable-folder", test_unwritable_folder);
  g_test_add_func ("/png/disk-full", test_disk_full);
  g_test_add_func ("/png/corrupt", test_corrupt);
  g_test_add_func ("/png/export-figure", test_export_figure);
  return g_test_run ();
}
