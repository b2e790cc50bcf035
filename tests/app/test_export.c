/* Export without a display: figures and the dashboard as PNG (1x, 2x), SVG and PDF with their
 * metadata; the CSV folder; atomic writes that never overwrite silently and leave nothing behind
 * when the folder is unwritable or the disk is full. */
#include "app/cl_export.h"

#include <cairo.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/train/cl_trainer.h"
#include "ui/cl_png.h"

static ClSnapshot *trained; /* a real run of a few steps, shared by the tests */

static ClSnapshot *
train_a_little (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_true (cl_config_set (&cfg, "train.batch", "16", NULL));
  g_assert_true (cl_config_set (&cfg, "train.steps", "4", NULL));
  g_assert_true (cl_config_set (&cfg, "probe.every", "2", NULL));
  g_assert_true (cl_config_set (&cfg, "probe.sim_images", "16", NULL));
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_no_error (error);
  while (cl_trainer_step (t))
    ;
  cl_trainer_publish (t);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  cl_trainer_free (t);
  g_assert_cmpint (s->step, ==, 4);
  g_assert_cmpint (s->n_rows, >, 0);
  g_assert_cmpint (s->similarity.m, ==, 16);
  g_assert_nonnull (s->config_ini);
  return s;
}

static char *
make_temp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("test_export_XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_chmod (path, 0755);
      GDir *dir = g_dir_open (path, 0, NULL);
      g_assert_nonnull (dir);
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_dir_close (dir);
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    g_assert_cmpint (g_unlink (path), ==, 0);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Names in a folder (hidden temp files included), sorted, joined with ",". */
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
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  char *joined = g_strjoinv (",", (char **) names->pdata);
  g_ptr_array_unref (names);
  return joined;
}

/* PDF streams hold NUL bytes, so the string functions of GLib cannot search them. */
static gboolean
bytes_contain (const char *bytes, gsize len, const char *needle)
{
  gsize n = strlen (needle);
  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (bytes + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static char *
read_text (const char *path)
{
  GError *error = NULL;
  GMappedFile *map = g_mapped_file_new (path, FALSE, &error);
  g_assert_no_error (error);
  char *text = g_strndup (g_mapped_file_get_contents (map), g_mapped_file_get_length (map));
  g_mapped_file_unref (map);
  return text;
}

static void
test_format_from_path (void)
{
  ClExportFormat f = CL_N_EXPORT_FORMATS;
  g_assert_true (cl_export_format_from_path ("/a/b/loss.png", &f));
  g_assert_cmpint (f, ==, CL_EXPORT_PNG);
  g_assert_true (cl_export_format_from_path ("x.SVG", &f));
  g_assert_cmpint (f, ==, CL_EXPORT_SVG);
  g_assert_true (cl_export_format_from_path ("run.2.Pdf", &f));
  g_assert_cmpint (f, ==, CL_EXPORT_PDF);
  f = CL_N_EXPORT_FORMATS;
  g_assert_false (cl_export_format_from_path ("figure", &f));
  g_assert_false (cl_export_format_from_path ("figure.jpeg", &f));
  g_assert_false (cl_export_format_from_path ("/a.png/figure", &f)); /* the folder's dot does not count */
  g_assert_false (cl_export_format_from_path (".png", &f));          /* a hidden file with no extension */
  g_assert_cmpint (f, ==, CL_N_EXPORT_FORMATS);
  g_assert_cmpstr (cl_export_format_extension (CL_EXPORT_PDF), ==, "pdf");
}

/* Fraction of pixels in a rectangle that differ from white. */
static double
ink_fraction (cairo_surface_t *img, int x0, int y0, int w, int h)
{
  const unsigned char *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  long ink = 0;
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++)
      {
        guint32 p = *(const guint32 *) (data + (gsize) y * stride + 4 * x);
        ink += (p & 0xFFFFFF) != 0xFFFFFF;
      }
  return (double) ink / ((double) w * h);
}

static void
test_figure_png_scales (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *one = g_build_filename (dir, "loss.png", NULL);
  g_autofree char *two = g_build_filename (dir, "loss@2x.png", NULL);
  GError *error = NULL;
  g_assert_true (cl_export_figure (one, CL_EXPORT_PNG, CL_FIGURE_LOSS, trained, NULL, 1.0, 0, &error));
  g_assert_no_error (error);
  g_assert_true (cl_export_figure (two, CL_EXPORT_PNG, CL_FIGURE_LOSS, trained, NULL, 2.0, 0, &error));
  g_assert_no_error (error);

  int w, h;
  cl_figure_export_size (CL_FIGURE_LOSS, &w, &h);
  cairo_surface_t *a = cairo_image_surface_create_from_png (one);
  cairo_surface_t *b = cairo_image_surface_create_from_png (two);
  g_assert_cmpint (cairo_surface_status (a), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_surface_status (b), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (a), ==, w);
  g_assert_cmpint (cairo_image_surface_get_height (a), ==, h);
  g_assert_cmpint (cairo_image_surface_get_width (b), ==, 2 * w);
  g_assert_cmpint (cairo_image_surface_get_height (b), ==, 2 * h);
  g_assert_cmpfloat (ink_fraction (a, 0, 0, w, h), >, 0.01);
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);

  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (two, &texts, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:config"), ==, trained->config_ini);
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:step"), ==, "4");
  g_assert_cmpstr (g_hash_table_lookup (texts, "Title"), ==, cl_figure_title (CL_FIGURE_LOSS));
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (texts, "Software"), "ContrastLab "));
  g_hash_table_unref (texts);

  /* The PNG restores the configuration it was exported from. */
  ClConfig restored, expected;
  cl_config_init (&restored);
  cl_config_init (&expected);
  g_assert_true (cl_config_apply_preset (&restored, two, &error));
  g_assert_no_error (error);
  g_assert_true (cl_config_load_data (&expected, trained->config_ini, "snapshot", &error));
  g_assert_cmpint (restored.train_batch, ==, 16);
  g_assert_false (cl_config_needs_restart (&restored, &expected));

  g_autofree char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "loss.png,loss@2x.png");
  remove_tree (dir);
}

static void
test_figure_svg_pdf (void)
{
  g_autofree char *dir = make_temp_dir ();
  GError *error = NULL;
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      g_autofree char *svg_name = g_strdup_printf ("%s.svg", cl_figure_slug ((ClFigureKind) k));
      g_autofree char *pdf_name = g_strdup_printf ("%s.pdf", cl_figure_slug ((ClFigureKind) k));
      g_autofree char *svg = g_build_filename (dir, svg_name, NULL);
      g_autofree char *pdf = g_build_filename (dir, pdf_name, NULL);
      g_assert_true (cl_export_figure (svg, CL_EXPORT_SVG, (ClFigureKind) k, trained, NULL, 1.0, 0, &error));
      g_assert_no_error (error);
      g_assert_true (cl_export_figure (pdf, CL_EXPORT_PDF, (ClFigureKind) k, trained, NULL, 2.0, 0, &error));
      g_assert_no_error (error);

      g_autofree char *text = read_text (svg);
      g_assert_true (g_str_has_prefix (text, "<?xml"));
      int w, h;
      cl_figure_export_size ((ClFigureKind) k, &w, &h);
      g_autofree char *size = g_strdup_printf ("viewBox=\"0 0 %d %d\"", w, h);
      g_assert_nonnull (strstr (text, size));
      g_autofree char *title =
          g_markup_printf_escaped ("<title>%s, step 4</title>", cl_figure_title ((ClFigureKind) k));
      const char *svg_tag = strstr (text, "<svg");
      const char *title_at = strstr (text, title);
      g_assert_nonnull (svg_tag);
      g_assert_nonnull (title_at);
      g_assert_true (title_at > svg_tag);
      /* desc carries the run.ini, escaped: [train] and the batch size are in it. */
      const char *desc = strstr (text, "<desc>");
      g_assert_nonnull (desc);
      g_assert_nonnull (strstr (desc, "[train]"));
      g_assert_nonnull (strstr (desc, "batch=16"));
      g_assert_nonnull (strstr (text, "</svg>"));
      /* Well-formed XML (GMarkup rejects unbalanced tags and bad escapes). */
      GMarkupParser parser = { 0 };
      GMarkupParseContext *ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
      const char *body = strstr (text, "?>") + 2;
      g_assert_true (g_markup_parse_context_parse (ctx, body, -1, &error));
      g_assert_no_error (error);
      g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
      g_assert_no_error (error);
      g_markup_parse_context_free (ctx);

      gsize len;
      char *bytes;
      g_assert_true (g_file_get_contents (pdf, &bytes, &len, NULL));
      g_assert_true (g_str_has_prefix (bytes, "%PDF-"));
      g_assert_true (bytes_contain (bytes, len, "%%EOF"));
      g_autofree char *pdf_title = g_strdup_printf ("/Title (%s, step 4)", cl_figure_title ((ClFigureKind) k));
      g_assert_true (bytes_contain (bytes, len, pdf_title));
      g_assert_true (bytes_contain (bytes, len, "/Creator (ContrastLab "));
      /* The page is the figure's size in points (the scale is a PNG matter). */
      g_autofree char *box = g_strdup_printf ("/MediaBox [ 0 0 %d %d ]", w, h);
      g_assert_true (bytes_contain (bytes, len, box));
      g_free (bytes);
    }
  remove_tree (dir);
}

static void
test_dashboard (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *png = g_build_filename (dir, "dashboard.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "dashboard.svg", NULL);
  g_autofree char *pdf = g_build_filename (dir, "dashboard.pdf", NULL);
  GError *error = NULL;
  g_assert_true (cl_export_dashboard (png, CL_EXPORT_PNG, trained, NULL, 1.0, 0, &error));
  g_assert_no_error (error);
  g_assert_true (cl_export_dashboard (svg, CL_EXPORT_SVG, trained, NULL, 1.0, 0, &error));
  g_assert_no_error (error);
  g_assert_true (cl_export_dashboard (pdf, CL_EXPORT_PDF, trained, NULL, 1.0, 0, &error));
  g_assert_no_error (error);

  int w, h;
  cl_export_dashboard_size (&w, &h);
  cairo_surface_t *img = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (img), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (img), ==, w);
  g_assert_cmpint (cairo_image_surface_get_height (img), ==, h);
  /* Two columns by three rows under a header: the title line has ink, and so has the inside
   * of each of the six cells (each one a figure, drawn on white). */
  g_assert_cmpfloat (ink_fraction (img, 0, 0, w / 2, 50), >, 0.005);
  int cell_w = w / 2, cell_h = (h - 90) / 3;
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      int x = (k % 2) * cell_w + cell_w / 8, y = 90 + (k / 2) * cell_h + cell_h / 8;
      double ink = ink_fraction (img, x, y, cell_w * 3 / 4, cell_h * 3 / 4);
      if (ink < 0.01)
        g_error ("dashboard cell %d (%s) looks empty: %.4f of its pixels have ink", k,
                 cl_figure_slug ((ClFigureKind) k), ink);
    }
  cairo_surface_destroy (img);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_cmpstr (g_hash_table_lookup (texts, "Title"), ==, "ContrastLab dashboard");
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:config"), ==, trained->config_ini);
  g_hash_table_unref (texts);

  g_autofree char *text = read_text (svg);
  g_assert_nonnull (strstr (text, "<title>ContrastLab dashboard, step 4</title>"));
  gsize len;
  char *bytes;
  g_assert_true (g_file_get_contents (pdf, &bytes, &len, NULL));
  g_assert_true (bytes_contain (bytes, len, "/Title (ContrastLab dashboard, step 4)"));
  g_free (bytes);
  remove_tree (dir);
}

static void
test_never_overwrites_silently (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "figure.svg", NULL);
  GError *error = NULL;
  g_assert_true (g_file_set_contents (path, "precious", -1, NULL));
  for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
    {
      g_assert_false (cl_export_figure (path, (ClExportFormat) f, CL_FIGURE_PROBES, trained, NULL, 1.0, 0, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
      g_assert_false (cl_export_dashboard (path, (ClExportFormat) f, trained, NULL, 1.0, 0, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
      g_clear_error (&error);
    }
  g_assert_false (cl_export_write_file (path, "other", -1, 0, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_clear_error (&error);
  g_autofree char *kept = read_text (path);
  g_assert_cmpstr (kept, ==, "precious");

  /* Told to, it replaces the file. */
  g_assert_true (
      cl_export_figure (path, CL_EXPORT_SVG, CL_FIGURE_PROBES, trained, NULL, 1.0, CL_EXPORT_OVERWRITE, &error));
  g_assert_no_error (error);
  g_autofree char *replaced = read_text (path);
  g_assert_true (g_str_has_prefix (replaced, "<?xml"));

  /* Even then, never a folder or anything else that is not a regular file. */
  g_autofree char *folder = g_build_filename (dir, "taken.png", NULL);
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  g_assert_false (
      cl_export_figure (folder, CL_EXPORT_PNG, CL_FIGURE_LOSS, trained, NULL, 1.0, CL_EXPORT_OVERWRITE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);
  g_assert_false (cl_export_write_file ("/dev/null", "x", -1, CL_EXPORT_OVERWRITE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  g_autofree char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "figure.svg,taken.png");
  g_autofree char *inside = list_dir (folder);
  g_assert_cmpstr (inside, ==, "");
  remove_tree (dir);
}

static void
test_unwritable_folder (void)
{
  g_autofree char *dir = make_temp_dir ();
  GError *error = NULL;
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "figure.pdf", NULL);
  g_assert_false (cl_export_figure (missing, CL_EXPORT_PDF, CL_FIGURE_LOSS, trained, NULL, 1.0, 0, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* A read-only folder. Root ignores permission bits, so as root sysfs (read-only even for
   * root) stands in for it; as a normal user both are checked. */
  g_autofree char *readonly = g_build_filename (dir, "readonly", NULL);
  g_assert_cmpint (g_mkdir (readonly, 0555), ==, 0);
  const char *targets[2] = { "/sys/contrastlab-figure.png", NULL };
  g_autofree char *in_readonly = g_build_filename (readonly, "figure.png", NULL);
  if (geteuid () != 0)
    targets[1] = in_readonly;
  for (int i = 0; i < 2 && targets[i]; i++)
    for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
      {
        g_assert_false (cl_export_dashboard (targets[i], (ClExportFormat) f, trained, NULL, 1.0, 0, &error));
        g_assert_nonnull (error);
        g_assert_true (error->domain == G_FILE_ERROR);
        g_assert_true (error->code == G_FILE_ERROR_ACCES || error->code == G_FILE_ERROR_PERM ||
                       error->code == G_FILE_ERROR_ROFS);
        g_assert_nonnull (strstr (error->message, targets[i]));
        g_clear_error (&error);
      }
  g_assert_false (cl_export_csv_folder ("/sys", trained, 0, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/sys/metrics.csv"));
  g_clear_error (&error);
  g_assert_false (g_file_test ("/sys/contrastlab-figure.png", G_FILE_TEST_EXISTS));
  g_autofree char *names = list_dir (readonly);
  g_assert_cmpstr (names, ==, "");
  remove_tree (dir);
}

/* A full disk, simulated with a file-size limit: write(2) fails with EFBIG part way through.
 * (/dev/full cannot stand in: the temp file must live beside the target, and a device is never
 * a target.) The old file survives and no temp file is left. */
static void
test_disk_full (void)
{
  g_autofree char *dir = make_temp_dir ();
  GError *error = NULL;
  const char *names[CL_N_EXPORT_FORMATS] = { "dash.png", "dash.svg", "dash.pdf" };
  struct rlimit saved;
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
    {
      g_autofree char *path = g_build_filename (dir, names[f], NULL);
      g_assert_true (g_file_set_contents (path, "old", -1, NULL));
      void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
      struct rlimit limited = saved;
      limited.rlim_cur = 8 * 1024; /* every dashboard is far larger */
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limited), ==, 0);
      gboolean ok = cl_export_dashboard (path, (ClExportFormat) f, trained, NULL, 2.0, CL_EXPORT_OVERWRITE, &error);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
      signal (SIGXFSZ, old_handler);
      g_assert_false (ok);
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
      g_clear_error (&error);
      g_autofree char *kept = read_text (path);
      g_assert_cmpstr (kept, ==, "old");
    }
  g_autofree char *listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "dash.pdf,dash.png,dash.svg");

  /* CSV: similarity.csv is written last; the limit lets the small ones through and stops it,
   * and then none of the four may appear. */
  g_autofree char *sim = cl_export_similarity_csv (trained);
  g_autofree char *metrics = cl_export_metrics_csv (trained);
  g_autofree char *probes = cl_export_probes_csv (trained);
  g_autofree char *clusters = cl_export_clusters_csv (trained);
  gsize limit = MAX (MAX (strlen (metrics), strlen (probes)), strlen (clusters)) + 1;
  g_assert_cmpuint (strlen (sim), >, limit);
  g_autofree char *csv_dir = g_build_filename (dir, "csv", NULL);
  g_assert_cmpint (g_mkdir (csv_dir, 0755), ==, 0);
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = limit;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limited), ==, 0);
  gboolean ok = cl_export_csv_folder (csv_dir, trained, 0, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "similarity.csv"));
  g_clear_error (&error);
  g_autofree char *csv_listing = list_dir (csv_dir);
  g_assert_cmpstr (csv_listing, ==, "");
  remove_tree (dir);
}

static void
test_similarity_csv (void)
{
  /* Two images, two views: a 4x4 matrix written out by hand. */
  float sim[16] = { 1.0f,  0.5f, 0.25f, -0.125f, 0.5f,    1.0f,  0.0f,  0.75f,
                    0.25f, 0.0f, 1.0f,  -1.0f,   -0.125f, 0.75f, -1.0f, 1.0f };
  int label[4] = { 3, 7, 3, 7 };
  uint32_t code[4] = { 5, 2, 5, 9 };
  ClSnapshot snap;
  memset (&snap, 0, sizeof snap);
  snap.similarity.m = 2;
  snap.similarity.sim = sim;
  snap.similarity.label = label;
  snap.similarity.code = code;
  g_autofree char *csv = cl_export_similarity_csv (&snap);
  g_assert_cmpstr (csv, ==,
                   "label,image,view,class,code,i0.v1,i1.v1,i0.v2,i1.v2\n"
                   "i0.v1,0,1,3,5,1,0.5,0.25,-0.125\n"
                   "i1.v1,1,1,7,2,0.5,1,0,0.75\n"
                   "i0.v2,0,2,3,5,0.25,0,1,-1\n"
                   "i1.v2,1,2,7,9,-0.125,0.75,-1,1\n");
  snap.similarity.m = 0;
  g_autofree char *empty = cl_export_similarity_csv (&snap);
  g_assert_cmpstr (empty, ==, "label,image,view,class,code\n");
}

static void
test_csv_folder (void)
{
  g_autofree char *dir = make_temp_dir ();
  GError *error = NULL;
  g_assert_true (cl_export_csv_folder (dir, trained, 0, &error));
  g_assert_no_error (error);
  g_autofree char *names = list_dir (dir);
  g_assert_cmpstr (names, ==, "clusters.csv,metrics.csv,probes.csv,similarity.csv");
  const char *headers[] = { "step,seconds,loss,alignment,distribution,contrastive_acc", "step,target,accuracy",
                            "step,layer,k,object_iou,instance_ari", "label,image,view,class,code,i0.v1" };
  const char *files[] = { "metrics.csv", "probes.csv", "clusters.csv", "similarity.csv" };
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_autofree char *text = read_text (path);
      g_assert_true (g_str_has_prefix (text, headers[i]));
    }
  g_autofree char *sim_path = g_build_filename (dir, "similarity.csv", NULL);
  g_autofree char *sim_text = read_text (sim_path);
  g_auto (GStrv) lines = g_strsplit (sim_text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2 * 16 + 2); /* header, 32 rows, empty after the last newline */
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  g_assert_cmpuint (g_strv_length (header), ==, 5 + 32);
  /* The diagonal of a cosine-similarity matrix is 1. */
  for (int i = 0; i < 32; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[1 + i], ",", -1);
      g_assert_cmpfloat (fabs (g_ascii_strtod (cells[5 + i], NULL) - 1.0), <, 1e-4);
    }

  /* A second export into the same folder is refused as a whole, and changes nothing. */
  g_auto (GStrv) existing = cl_export_csv_existing (dir);
  g_assert_cmpuint (g_strv_length (existing), ==, 4);
  g_autofree char *probes = g_build_filename (dir, "probes.csv", NULL);
  g_assert_true (g_file_set_contents (probes, "mine", -1, NULL));
  g_autofree char *metrics = g_build_filename (dir, "metrics.csv", NULL);
  g_assert_cmpint (g_unlink (metrics), ==, 0);
  g_assert_false (cl_export_csv_folder (dir, trained, 0, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_clear_error (&error);
  g_assert_false (g_file_test (metrics, G_FILE_TEST_EXISTS));
  g_autofree char *mine = read_text (probes);
  g_assert_cmpstr (mine, ==, "mine");
  g_assert_true (cl_export_csv_folder (dir, trained, CL_EXPORT_OVERWRITE, &error));
  g_assert_no_error (error);
  g_autofree char *theirs = read_text (probes);
  g_assert_true (g_str_has_prefix (theirs, "step,target,accuracy"));
  g_autofree char *after = list_dir (dir);
  g_assert_cmpstr (after, ==, "clusters.csv,metrics.csv,probes.csv,similarity.csv");
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  trained = train_a_little ();
  g_test_add_func ("/export/format-from-path", test_format_from_path);
  g_test_add_func ("/export/figure-png-scales", test_figure_png_scales);
  g_test_add_func ("/export/figure-svg-pdf", test_figure_svg_pdf);
  g_test_add_func ("/export/dashboard", test_dashboard);
  g_test_add_func ("/export/never-overwrites-silently", test_never_overwrites_silently);
  g_test_add_func ("/export/unwritable-folder", test_unwritable_folder);
  g_test_add_func ("/export/disk-full", test_disk_full);
  g_test_add_func ("/export/similarity-csv", test_similarity_csv);
  g_test_add_func ("/export/csv-folder", test_csv_folder);
  int code = g_test_run ();
  cl_snapshot_unref (trained);
  return code;
}
