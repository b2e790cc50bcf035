/* Reading a PNG's text chunks in the engine (cl_png_text.h) and applying a preset from one:
 * PNGs built here byte by byte (this test links no libpng), hostile ones included. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "engine/store/cl_png_text.h"

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, x, 4);
}

/* Appends a chunk with its CRC. */
static void
chunk (GByteArray *b, const char *type, const void *data, guint32 n)
{
  put32 (b, n);
  guint start = b->len;
  g_byte_array_append (b, (const guint8 *) type, 4);
  if (n)
    g_byte_array_append (b, data, n);
  put32 (b, (guint32) crc32 (0, b->data + start, n + 4));
}

static GBytes *
compressed (const char *text, gsize n)
{
  uLongf cap = compressBound (n);
  guint8 *out = g_malloc (cap);
  g_assert_cmpint (compress (out, &cap, (const Bytef *) text, n), ==, Z_OK);
  return g_bytes_new_take (out, cap);
}

/* A 2x1 8-bit grey PNG; texts as (type, key, value) triples, before the image data. */
static GByteArray *
make_png (const char *const *texts, int n_texts)
{
  GByteArray *b = g_byte_array_new ();
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
  g_byte_array_append (b, sig, 8);
  guint8 ihdr[13] = { 0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 0, 0, 0 };
  chunk (b, "IHDR", ihdr, 13);
  for (int i = 0; i < n_texts; i++)
    {
      const char *type = texts[3 * i], *key = texts[3 * i + 1], *value = texts[3 * i + 2];
      GByteArray *d = g_byte_array_new ();
      g_byte_array_append (d, (const guint8 *) key, (guint) strlen (key) + 1);
      if (strcmp (type, "tEXt") == 0)
        g_byte_array_append (d, (const guint8 *) value, (guint) strlen (value));
      else if (strcmp (type, "zTXt") == 0)
        {
          guint8 method = 0;
          g_byte_array_append (d, &method, 1);
          g_autoptr (GBytes) z = compressed (value, strlen (value));
          g_byte_array_append (d, g_bytes_get_data (z, NULL), (guint) g_bytes_get_size (z));
        }
      else
        {
          static const guint8 head[4] = { 1, 0, 0, 0 }; /* compressed, method 0, "", "" */
          g_byte_array_append (d, head, 4);
          g_autoptr (GBytes) z = compressed (value, strlen (value));
          g_byte_array_append (d, g_bytes_get_data (z, NULL), (guint) g_bytes_get_size (z));
        }
      chunk (b, type, d->data, d->len);
      g_byte_array_unref (d);
    }
  static const char row[3] = { 0, 10, 20 }; /* filter byte + 2 pixels */
  g_autoptr (GBytes) idat = compressed (row, 3);
  chunk (b, "IDAT", g_bytes_get_data (idat, NULL), (guint32) g_bytes_get_size (idat));
  chunk (b, "IEND", NULL, 0);
  return b;
}

static const char config[] = "[loss]\ntemperature=0.3\n\n[train]\nbatch=48\n";

static void
test_read_texts (void)
{
  const char *texts[] = { "tEXt",  "Author",          "Jos\xE9", "zTXt",   "contrastlab:config", config, "iTXt",
                          "Title", "\xCF\x84 figure", "tEXt",    "Author", "second, ignored" };
  GByteArray *png = make_png (texts, 4);
  GError *error = NULL;
  GHashTable *t = cl_png_text_parse (png->data, png->len, "mem.png", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (t), ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (t, "Author"), ==, "Jos\xC3\xA9");
  g_assert_cmpstr (g_hash_table_lookup (t, "contrastlab:config"), ==, config);
  g_assert_cmpstr (g_hash_table_lookup (t, "Title"), ==, "\xCF\x84 figure");
  g_hash_table_unref (t);

  /* every truncation is refused, never a partial table */
  for (guint cut = 0; cut < png->len; cut++)
    {
      t = cl_png_text_parse (png->data, cut, "mem.png", &error);
      g_assert_null (t);
      g_assert_error (error, CL_PNG_TEXT_ERROR, CL_PNG_TEXT_ERROR_CORRUPT);
      g_assert_null (strchr (error->message, '\n'));
      g_clear_error (&error);
    }
  /* every flipped bit is refused (CRC) or still reads; never a crash */
  int refused = 0;
  for (guint at = 0; at < png->len; at++)
    {
      png->data[at] ^= 0x10;
      t = cl_png_text_parse (png->data, png->len, "mem.png", &error);
      refused += t == NULL;
      if (t)
        g_hash_table_unref (t);
      g_clear_error (&error);
      png->data[at] ^= 0x10;
    }
  g_assert_cmpint (refused, ==, (int) png->len);
  g_byte_array_unref (png);
}

static glong
max_rss_kb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Issue 16 item 2: a 599-byte PNG whose tEXt chunk declares 0x7fffffff bytes made libpng
 * allocate 2.1 GB. Refused at once, naming the chunk; memory does not grow. */
static void
test_huge_declared_chunk (void)
{
  GByteArray *b = g_byte_array_new ();
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
  g_byte_array_append (b, sig, 8);
  guint8 ihdr[13] = { 0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 0, 0, 0 };
  chunk (b, "IHDR", ihdr, 13);
  put32 (b, 0x7FFFFFFF);
  g_byte_array_append (b, (const guint8 *) "tEXtcontrastlab:config", 22);
  while (b->len < 599)
    g_byte_array_append (b, (const guint8 *) "x", 1);
  g_assert_cmpuint (b->len, ==, 599);
  g_autofree char *dir = g_dir_make_tmp ("cl-png-text-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "huge.png", NULL);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));

  glong before = max_rss_kb ();
  GError *error = NULL;
  GHashTable *t = cl_png_text_read (path, &error);
  g_assert_null (t);
  g_assert_error (error, CL_PNG_TEXT_ERROR, CL_PNG_TEXT_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "tEXt"));
  g_assert_nonnull (strstr (error->message, "2147483647"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  /* the preset path: bad input (CL_CONFIG_ERROR, exit 2 at the CLI) */
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_false (cl_config_apply_preset (&cfg, path, &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE);
  g_clear_error (&error);
  glong after = max_rss_kb ();
  g_test_message ("max RSS %ld kB before, %ld kB after", before, after);
  g_assert_cmpint (after - before, <, 16 * 1024);
  g_unlink (path);
  g_rmdir (dir);
  g_byte_array_unref (b);
}

/* Issue 16 item 6 (engine part): a file that is not a PNG, an empty or truncated PNG, and a PNG
 * without a config given as a preset are bad input (CL_CONFIG_ERROR), one line naming the file;
 * a good one applies its config. */
static void
test_apply_preset (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cl-png-text-XXXXXX", NULL);
  const char *texts[] = { "zTXt", "contrastlab:config", config };
  GByteArray *good = make_png (texts, 1);
  GByteArray *plain = make_png (NULL, 0);
  struct
  {
    const char *name;
    const void *data;
    gsize len;
    const char *says;
  } cases[] = {
    { "text.png", "hello, this is text\n", 20, "no PNG signature" },
    { "empty.png", "", 0, "empty" },
    { "cut.png", good->data, good->len - 5, "truncated" },
    { "plain.png", plain->data, plain->len, "no contrastlab:config" },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *path = g_build_filename (dir, cases[c].name, NULL);
      g_assert_true (g_file_set_contents (path, cases[c].data, (gssize) cases[c].len, NULL));
      ClConfig cfg;
      cl_config_init (&cfg);
      GError *error = NULL;
      g_assert_false (cl_config_apply_preset (&cfg, path, &error));
      g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[c].says));
      g_assert_null (strchr (error->message, '\n'));
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      g_unlink (path);
    }
  g_autofree char *path = g_build_filename (dir, "good.png", NULL);
  g_assert_true (g_file_set_contents (path, (const char *) good->data, good->len, NULL));
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_assert_true (cl_config_apply_preset (&cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (cfg.loss_temperature, ==, 0.3);
  g_assert_cmpint (cfg.train_batch, ==, 48);
  g_unlink (path);
  /* a FIFO named .png does not block */
  g_autofree char *fifo = g_build_filename (dir, "fifo.png", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  alarm (20);
  g_assert_false (cl_config_apply_preset (&cfg, fifo, &error));
  alarm (0);
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE);
  g_clear_error (&error);
  g_unlink (fifo);
  g_rmdir (dir);
  g_byte_array_unref (good);
  g_byte_array_unref (plain);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/png-text/read", test_read_texts);
  g_test_add_func ("/png-text/huge-declared-chunk", test_huge_declared_chunk);
  g_test_add_func ("/png-text/apply-preset", test_apply_preset);
  return g_test_run ();
}
