/* Text chunks of a PNG without libpng (cl_png_text.h). */
#include "engine/store/cl_png_text.h"

#include <string.h>
#include <zlib.h>

#include "engine/base/cl_file.h"

G_DEFINE_QUARK (cl - png - text - error - quark, cl_png_text_error)

#define MAX_SIDE 1000000u /* libpng's default user limit */

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static char *
latin1_to_utf8 (const guint8 *s, gsize n)
{
  GString *out = g_string_sized_new (n + 16);
  for (gsize i = 0; i < n; i++)
    g_string_append_unichar (out, (gunichar) s[i]);
  return g_string_free (out, FALSE);
}

/* Inflates in[0..n) whole, at most max bytes out. NULL when the stream is bad or too large. */
static char *
inflate_all (const guint8 *in, gsize n, gsize max, gsize *out_len)
{
  z_stream z = { 0 };
  if (inflateInit (&z) != Z_OK)
    return NULL;
  gsize cap = MIN (MAX (n * 4, (gsize) 256), max + 1);
  char *out = g_malloc (cap + 1);
  z.next_in = (Bytef *) in;
  z.avail_in = (uInt) MIN (n, (gsize) G_MAXUINT32);
  int rc = Z_OK;
  while (rc == Z_OK)
    {
      if (z.total_out == cap)
        {
          if (cap > max)
            break;
          cap = MIN (cap * 2, max + 1);
          out = g_realloc (out, cap + 1);
        }
      z.next_out = (Bytef *) out + z.total_out;
      z.avail_out = (uInt) (cap - z.total_out);
      rc = inflate (&z, Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR && z.avail_out > 0)
        break; /* input ended before the stream did */
      if (rc == Z_BUF_ERROR)
        rc = Z_OK;
    }
  gsize total = z.total_out;
  inflateEnd (&z);
  if (rc != Z_STREAM_END || total > max)
    {
      g_free (out);
      return NULL;
    }
  out[total] = '\0';
  *out_len = total;
  return out;
}

typedef struct
{
  const char *source;
  GHashTable *table;
  /* IHDR */
  guint32 width, height;
  int bits_per_pixel;
  gboolean interlaced;
  guint64 raw_size; /* bytes the image data must inflate to */
  /* IDAT */
  z_stream z;
  gboolean z_open, z_done;
  guint64 z_total;
  guint8 scratch[16384];
} Walk;

static gboolean corrupt (GError **error, const Walk *w, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
corrupt (GError **error, const Walk *w, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, CL_PNG_TEXT_ERROR, CL_PNG_TEXT_ERROR_CORRUPT, "%s: not a readable PNG: %s", w->source, what);
  return FALSE;
}

static guint64
pass_size (guint32 w, guint32 h, int bpp)
{
  if (w == 0 || h == 0)
    return 0;
  return (guint64) h * (1 + ((guint64) w * (guint64) bpp + 7) / 8);
}

static gboolean
read_ihdr (Walk *w, const guint8 *d, guint32 n, GError **error)
{
  if (n != 13)
    return corrupt (error, w, "IHDR has %u bytes, expected 13", n);
  w->width = be32 (d);
  w->height = be32 (d + 4);
  int depth = d[8], colour = d[9];
  if (w->width == 0 || w->height == 0 || w->width > MAX_SIDE || w->height > MAX_SIDE)
    return corrupt (error, w, "image size %u x %u (expected 1 to %u pixels a side)", w->width, w->height, MAX_SIDE);
  int channels = 0;
  gboolean depth_ok = FALSE;
  switch (colour)
    {
    case 0:
      channels = 1;
      depth_ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
      break;
    case 2:
      channels = 3;
      depth_ok = depth == 8 || depth == 16;
      break;
    case 3:
      channels = 1;
      depth_ok = depth == 1 || depth == 2 || depth == 4 || depth == 8;
      break;
    case 4:
      channels = 2;
      depth_ok = depth == 8 || depth == 16;
      break;
    case 6:
      channels = 4;
      depth_ok = depth == 8 || depth == 16;
      break;
    default:
      break;
    }
  if (!depth_ok)
    return corrupt (error, w, "colour type %d with bit depth %d", colour, depth);
  if (d[10] != 0 || d[11] != 0 || d[12] > 1)
    return corrupt (error, w, "unknown compression, filter or interlace method (%d, %d, %d)", d[10], d[11], d[12]);
  w->bits_per_pixel = depth * channels;
  w->interlaced = d[12] == 1;
  if (!w->interlaced)
    w->raw_size = pass_size (w->width, w->height, w->bits_per_pixel);
  else
    {
      /* Adam7: the seven passes' origins and steps */
      static const int x0[7] = { 0, 4, 0, 2, 0, 1, 0 }, y0[7] = { 0, 0, 4, 0, 2, 0, 1 };
      static const int dx[7] = { 8, 8, 4, 4, 2, 2, 1 }, dy[7] = { 8, 8, 8, 4, 4, 2, 2 };
      w->raw_size = 0;
      for (int p = 0; p < 7; p++)
        {
          guint32 pw =
              w->width > (guint32) x0[p] ? (w->width - (guint32) x0[p] + (guint32) dx[p] - 1) / (guint32) dx[p] : 0;
          guint32 ph =
              w->height > (guint32) y0[p] ? (w->height - (guint32) y0[p] + (guint32) dy[p] - 1) / (guint32) dy[p] : 0;
          w->raw_size += pass_size (pw, ph, w->bits_per_pixel);
        }
    }
  return TRUE;
}

/* The image data is inflated and dropped: only to know that the stream is whole and of the size
 * IHDR implies (what libpng checks when it decodes the pixels). */
static gboolean
feed_idat (Walk *w, const guint8 *d, guint32 n, GError **error)
{
  if (!w->z_open)
    {
      if (inflateInit (&w->z) != Z_OK)
        return corrupt (error, w, "zlib cannot start");
      w->z_open = TRUE;
    }
  if (w->z_done)
    return TRUE; /* data after the end of the stream: ignored, as libpng does */
  w->z.next_in = (Bytef *) d;
  w->z.avail_in = n;
  while (w->z.avail_in > 0)
    {
      w->z.next_out = w->scratch;
      w->z.avail_out = sizeof w->scratch;
      int rc = inflate (&w->z, Z_NO_FLUSH);
      w->z_total += sizeof w->scratch - w->z.avail_out;
      if (w->z_total > w->raw_size)
        return corrupt (error, w,
                        "the image data inflates to more than the %" G_GUINT64_FORMAT " bytes of a %u x %u image",
                        w->raw_size, w->width, w->height);
      if (rc == Z_STREAM_END)
        {
          w->z_done = TRUE;
          break;
        }
      if (rc == Z_BUF_ERROR)
        continue;
      if (rc != Z_OK)
        return corrupt (error, w, "the image data is not a valid zlib stream (%s)", w->z.msg ? w->z.msg : "error");
    }
  return TRUE;
}

static void
add_text (Walk *w, char *key, char *value)
{
  if (g_hash_table_contains (w->table, key))
    {
      g_free (key);
      g_free (value);
    }
  else
    g_hash_table_insert (w->table, key, value);
}

/* The keyword at d: 1..79 bytes and a NUL. Returns its length, or 0 when malformed. */
static gsize
keyword_length (const guint8 *d, guint32 n)
{
  const guint8 *nul = memchr (d, 0, MIN (n, 80u));
  if (!nul || nul == d)
    return 0;
  return (gsize) (nul - d);
}

/* A malformed text chunk is skipped (libpng warns and drops it too): the others still read. */
static void
read_text_chunk (Walk *w, const char *type, const guint8 *d, guint32 n)
{
  gsize k = keyword_length (d, n);
  if (k == 0)
    return;
  const guint8 *p = d + k + 1, *end = d + n;
  if (strcmp (type, "tEXt") == 0)
    {
      const guint8 *nul = memchr (p, 0, (gsize) (end - p));
      add_text (w, latin1_to_utf8 (d, k), latin1_to_utf8 (p, (gsize) ((nul ? nul : end) - p)));
    }
  else if (strcmp (type, "zTXt") == 0)
    {
      if (p >= end || *p != 0)
        return;
      gsize len = 0;
      g_autofree char *raw = inflate_all (p + 1, (gsize) (end - p - 1), CL_PNG_TEXT_MAX_VALUE, &len);
      if (raw)
        add_text (w, latin1_to_utf8 (d, k), latin1_to_utf8 ((const guint8 *) raw, strnlen (raw, len)));
    }
  else /* iTXt */
    {
      if (end - p < 2)
        return;
      int compressed = p[0], method = p[1];
      p += 2;
      if (compressed > 1 || (compressed && method != 0))
        return;
      for (int skip = 0; skip < 2; skip++) /* language tag, translated keyword */
        {
          const guint8 *nul = memchr (p, 0, (gsize) (end - p));
          if (!nul)
            return;
          p = nul + 1;
        }
      gsize len = (gsize) (end - p);
      g_autofree char *raw = NULL;
      if (compressed)
        {
          raw = inflate_all (p, len, CL_PNG_TEXT_MAX_VALUE, &len);
          if (!raw)
            return;
          p = (const guint8 *) raw;
        }
      add_text (w, latin1_to_utf8 (d, k),
                g_utf8_make_valid ((const char *) p, (gssize) strnlen ((const char *) p, len)));
    }
}

GHashTable *
cl_png_text_parse (const guint8 *data, gsize len, const char *source, GError **error)
{
  Walk *w = g_new0 (Walk, 1);
  w->source = source;
  w->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gboolean ok = TRUE, seen_ihdr = FALSE, seen_idat = FALSE, seen_iend = FALSE;
  if (len < 8 || memcmp (data, png_signature, 8) != 0)
    ok = corrupt (error, w, len == 0 ? "the file is empty" : "no PNG signature (not a PNG file)");
  gsize pos = 8;
  for (int index = 0; ok && !seen_iend; index++)
    {
      if (len - pos < 12)
        {
          ok = corrupt (error, w, "the file ends at byte %" G_GSIZE_FORMAT " before its IEND chunk (truncated)", len);
          break;
        }
      guint32 n = be32 (data + pos);
      char type[5];
      memcpy (type, data + pos + 4, 4);
      type[4] = '\0';
      for (int i = 0; i < 4 && ok; i++)
        if (!g_ascii_isalpha (type[i]))
          ok = corrupt (error, w, "chunk %d at byte %" G_GSIZE_FORMAT " has an invalid type", index, pos);
      if (!ok)
        break;
      if (n > 0x7FFFFFFFu || n > len - pos - 12)
        {
          ok = corrupt (error, w,
                        "chunk %s at byte %" G_GSIZE_FORMAT " declares %u bytes, but %" G_GSIZE_FORMAT
                        " are left (truncated or corrupt)",
                        type, pos, n, len - pos - 12);
          break;
        }
      const guint8 *d = data + pos + 8;
      guint32 crc = (guint32) crc32 (crc32 (0, NULL, 0), data + pos + 4, n + 4);
      if (crc != be32 (d + n))
        {
          ok = corrupt (error, w, "chunk %s at byte %" G_GSIZE_FORMAT ": CRC mismatch", type, pos);
          break;
        }
      if (index == 0 && strcmp (type, "IHDR") != 0)
        ok = corrupt (error, w, "the first chunk is %s, expected IHDR", type);
      else if (strcmp (type, "IHDR") == 0)
        {
          ok = !seen_ihdr ? read_ihdr (w, d, n, error) : corrupt (error, w, "a second IHDR chunk");
          seen_ihdr = TRUE;
        }
      else if (strcmp (type, "IDAT") == 0)
        {
          seen_idat = TRUE;
          ok = feed_idat (w, d, n, error);
        }
      else if (strcmp (type, "IEND") == 0)
        seen_iend = TRUE;
      else if (strcmp (type, "tEXt") == 0 || strcmp (type, "zTXt") == 0 || strcmp (type, "iTXt") == 0)
        read_text_chunk (w, type, d, n);
      else if (g_ascii_isupper (type[0]) && strcmp (type, "PLTE") != 0)
        ok = corrupt (error, w, "unknown critical chunk %s", type);
      pos += 12 + (gsize) n;
    }
  if (ok && !seen_idat)
    ok = corrupt (error, w, "no image data (IDAT)");
  if (ok && (!w->z_done || w->z_total != w->raw_size))
    ok = corrupt (error, w, "the image data ends early (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)",
                  w->z_total, w->raw_size);
  if (w->z_open)
    inflateEnd (&w->z);
  GHashTable *table = w->table;
  g_free (w);
  if (!ok)
    {
      g_hash_table_unref (table);
      return NULL;
    }
  return table;
}

GHashTable *
cl_png_text_read (const char *path, GError **error)
{
  char *data = NULL;
  gsize len = 0;
  if (!cl_file_read_regular (path, CL_PNG_TEXT_MAX_FILE, &data, &len, error))
    return NULL;
  g_autofree char *display = g_filename_display_name (path);
  GHashTable *t = cl_png_text_parse ((const guint8 *) data, len, display, error);
  g_free (data);
  return t;
}

char *
cl_png_text_read_config (const char *path, GError **error)
{
  GHashTable *t = cl_png_text_read (path, error);
  if (!t)
    return NULL;
  char *ini = g_strdup (g_hash_table_lookup (t, "contrastlab:config"));
  g_hash_table_unref (t);
  if (!ini)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, CL_PNG_TEXT_ERROR, CL_PNG_TEXT_ERROR_NO_CONFIG,
                   "%s: this PNG has no contrastlab:config text chunk (was it exported by ContrastLab?)", display);
    }
  return ini;
}

gboolean
cl_config_apply_preset (ClConfig *cfg, const char *name_or_file, GError **error)
{
  g_autofree char *path = cl_preset_resolve (name_or_file, error);
  if (!path)
    return FALSE;
  if (g_str_has_suffix (path, ".png") || g_str_has_suffix (path, ".PNG"))
    {
      GError *local = NULL;
      g_autofree char *ini = cl_png_text_read_config (path, &local);
      if (!ini)
        {
          /* a file that is not a PNG, or one without a config, is bad input like a bad .ini */
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "%s", local->message);
          g_error_free (local);
          return FALSE;
        }
      return cl_config_load_data (cfg, ini, path, error);
    }
  return cl_config_load_file (cfg, path, error);
}
