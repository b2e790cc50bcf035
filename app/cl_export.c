#include "app/cl_export.h"

#include "engine/base/cl_file.h"
#include "engine/store/cl_runs.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_config.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_figures.h"
#include "ui/plots/cl_plot_common.h"

typedef struct
{
  ClFigureKind kind;
  const ClSnapshot *snap;
  const ClFigureOptions *options;
} FigureJob;

static void
draw_figure (cairo_t *cr, double w, double h, gpointer data)
{
  const FigureJob *job = data;
  cl_figure_draw_with (job->kind, cr, w, h, job->snap, job->options);
}

gboolean
cl_export_figure_png (const char *path, ClFigureKind kind, const ClSnapshot *snap, double scale, GError **error)
{
  return cl_export_figure_png_with (path, kind, snap, NULL, scale, error);
}

gboolean
cl_export_figure_png_with (const char *path, ClFigureKind kind, const ClSnapshot *snap, const ClFigureOptions *options,
                           double scale, GError **error)
{
  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, snap->step);
  g_autofree char *events = snap->n_events > 0 ? cl_runs_events_csv (snap) : NULL;
  const ClPngText texts[] = {
    { "Software", "ContrastLab " CL_VERSION },
    { "Title", cl_figure_title (kind) },
    { "contrastlab:config", snap->config_ini ? snap->config_ini : "" },
    { "contrastlab:step", step },
    { "contrastlab:events", events }, /* the live changes, so a re-run can replay them */
  };
  int width, height;
  cl_figure_export_size_for (kind, snap, &width, &height);
  FigureJob job = { kind, snap, options };
  return cl_png_export_figure (path, width, height, scale, draw_figure, &job, texts, G_N_ELEMENTS (texts) - !events,
                               error);
}

char *
cl_export_metrics_csv (const ClSnapshot *snap)
{
  return cl_runs_metrics_csv (snap);
}

char *
cl_export_probes_csv (const ClSnapshot *snap)
{
  return cl_runs_probes_csv (snap);
}

char *
cl_export_clusters_csv (const ClSnapshot *snap)
{
  return cl_runs_clusters_csv (snap);
}

/* ------------------------------------------------------------ atomic writes */

/* A finished temp file beside its target, waiting to be put in place. */
typedef struct
{
  char *path;
  char *temp;         /* the temp's name (for writers that need a path, as cl_png does) */
  ClAtomicFile *file; /* the one atomic write (engine/base/cl_file.h) */
} Staged;

static void
set_os_error (GError **error, int err, const char *verb, const char *path)
{
  g_autofree char *display = g_filename_display_name (path);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s “%s”: %s", verb, display, g_strerror (err));
}

static void
staged_discard (Staged *st)
{
  g_clear_pointer (&st->file, cl_atomic_file_abort);
  g_clear_pointer (&st->temp, g_free);
  g_clear_pointer (&st->path, g_free);
}

/* Refuses an existing target unless told to overwrite, and never replaces anything but a
 * regular file (a folder, a device such as /dev/full, a socket). */
static gboolean
check_target (const char *path, ClExportFlags flags, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    return TRUE; /* absent (or unreachable, which the write itself reports) */
  g_autofree char *display = g_filename_display_name (path);
  if (!(flags & CL_EXPORT_OVERWRITE))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                   "“%s” already exists; it was not replaced (choose another name, or allow replacing it)", display);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_FAILED,
                   "Cannot replace “%s”: it is not a regular file", display);
      return FALSE;
    }
  return TRUE;
}

/* Creates the temp file: hidden, in the target's folder so that the final rename or link
 * cannot cross file systems. */
static int
staged_open (Staged *st, const char *path, GError **error)
{
  st->file = cl_atomic_file_new (path, error);
  if (!st->file)
    return -1;
  st->path = g_strdup (path);
  st->temp = g_strdup (cl_atomic_file_temp_path (st->file));
  return cl_atomic_file_fd (st->file);
}

/* Buffered writes straight to the file descriptor: every write(2) result is checked here, so
 * that a full disk is caught where it happens (stdio may report a failed flush of its buffer
 * only through ferror, which is easy to miss). */
#define SINK_BUFFER 65536

typedef struct
{
  int fd;
  int saved_errno; /* first failure; nothing more is written after it */
  gsize used;
  unsigned char buffer[SINK_BUFFER];
} Sink;

static gboolean
sink_flush (Sink *sink)
{
  gsize done = 0;
  while (!sink->saved_errno && done < sink->used)
    {
      ssize_t n = write (sink->fd, sink->buffer + done, sink->used - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        sink->saved_errno = n < 0 ? errno : EIO;
      else
        done += (gsize) n;
    }
  sink->used = 0;
  return !sink->saved_errno;
}

static cairo_status_t
sink_write (void *closure, const unsigned char *data, unsigned int length)
{
  Sink *sink = closure;
  while (length > 0 && !sink->saved_errno)
    {
      if (sink->used == SINK_BUFFER)
        sink_flush (sink);
      gsize take = MIN ((gsize) length, SINK_BUFFER - sink->used);
      memcpy (sink->buffer + sink->used, data, take);
      sink->used += take;
      data += take;
      length -= (unsigned int) take;
    }
  return sink->saved_errno ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Writes a whole temp file through write_body and makes it durable. On failure nothing is left. */
static gboolean
staged_write (Staged *st, const char *path, gboolean (*write_body) (Sink *sink, gpointer data, GError **error),
              gpointer data, GError **error)
{
  int fd = staged_open (st, path, error);
  if (fd < 0)
    return FALSE;
  Sink *sink = g_new (Sink, 1);
  sink->fd = fd;
  sink->saved_errno = 0;
  sink->used = 0;
  GError *body_error = NULL;
  gboolean ok = write_body (sink, data, &body_error);
  if (!sink_flush (sink))
    ok = FALSE;
  /* fsync, close and rename happen at commit (cl_atomic_file_commit) */
  int saved_errno = sink->saved_errno;
  g_free (sink);
  if (!ok)
    {
      if (saved_errno)
        {
          g_clear_error (&body_error);
          set_os_error (error, saved_errno, "Cannot write", path);
        }
      else if (body_error)
        g_propagate_error (error, body_error);
      else
        set_os_error (error, EIO, "Cannot write", path);
      staged_discard (st);
      return FALSE;
    }
  g_clear_error (&body_error);
  return TRUE;
}

/* Puts a staged file in place: replaced (CL_EXPORT_OVERWRITE) or, without it, hard-linked so
 * that an existing target is refused atomically. Always consumes st. */
static gboolean
staged_commit (Staged *st, ClExportFlags flags, GError **error)
{
  if ((flags & CL_EXPORT_OVERWRITE) && !check_target (st->path, flags, error))
    {
      staged_discard (st);
      return FALSE;
    }
  gboolean ok = cl_atomic_file_commit (
      g_steal_pointer (&st->file), (flags & CL_EXPORT_OVERWRITE) ? CL_FILE_REPLACE_DEFAULT : CL_FILE_REPLACE_EXCLUSIVE,
      error);
  staged_discard (st);
  return ok;
}

static gboolean
write_string_body (Sink *sink, gpointer data, GError **error)
{
  (void) error;
  const GString *text = data;
  return sink_write (sink, (const unsigned char *) text->str, (unsigned int) text->len) == CAIRO_STATUS_SUCCESS;
}

gboolean
cl_export_write_file (const char *path, const char *contents, gssize length, ClExportFlags flags, GError **error)
{
  if (!check_target (path, flags, error))
    return FALSE;
  GString text = { (char *) contents, length < 0 ? strlen (contents) : (gsize) length, 0 };
  Staged st = { 0 };
  if (!staged_write (&st, path, write_string_body, &text, error))
    return FALSE;
  return staged_commit (&st, flags, error);
}

/* ------------------------------------------------------------------ formats */

static const char *const format_extensions[CL_N_EXPORT_FORMATS] = { "png", "svg", "pdf" };

const char *
cl_export_format_extension (ClExportFormat format)
{
  return format_extensions[format];
}

gboolean
cl_export_format_from_path (const char *path, ClExportFormat *format)
{
  g_autofree char *base = g_path_get_basename (path);
  const char *dot = strrchr (base, '.');
  if (!dot || dot == base)
    return FALSE;
  for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
    if (g_ascii_strcasecmp (dot + 1, format_extensions[f]) == 0)
      {
        *format = (ClExportFormat) f;
        return TRUE;
      }
  return FALSE;
}

typedef void (*DrawFunc) (cairo_t *cr, double width, double height, gpointer data);

/* What an export draws and says about itself. */
typedef struct
{
  DrawFunc draw;
  gpointer data;
  int width, height;
  const char *title;
  const ClSnapshot *snap;
} Page;

static gboolean
draw_page (cairo_surface_t *surface, const Page *page, GError **error)
{
  cairo_t *cr = cairo_create (surface);
  page->draw (cr, page->width, page->height, page->data);
  cairo_show_page (cr);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  if (status != CAIRO_STATUS_SUCCESS && status != CAIRO_STATUS_WRITE_ERROR)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "drawing failed: %s", cairo_status_to_string (status));
  return status == CAIRO_STATUS_SUCCESS;
}

static gboolean
write_pdf_body (Sink *sink, gpointer data, GError **error)
{
  const Page *page = data;
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream (sink_write, sink, page->width, page->height);
  g_autofree char *title = g_strdup_printf ("%s, step %" G_GINT64_FORMAT, page->title, page->snap->step);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "ContrastLab " CL_VERSION);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_SUBJECT,
                                  "Re-creating “Intriguing Properties of Contrastive Losses” (Chen, Luo, Li 2021)");
  gboolean ok = draw_page (surface, page, error);
  cairo_surface_destroy (surface);
  return ok;
}

static cairo_status_t
collect_write (void *closure, const unsigned char *data, unsigned int length)
{
  g_string_append_len (closure, (const char *) data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
write_svg_body (Sink *sink, gpointer data, GError **error)
{
  const Page *page = data;
  /* Collected in memory first so that <title> and <desc> can go right after the <svg> tag. */
  GString *svg = g_string_new (NULL);
  cairo_surface_t *surface = cairo_svg_surface_create_for_stream (collect_write, svg, page->width, page->height);
  gboolean ok = draw_page (surface, page, error);
  cairo_surface_destroy (surface);
  const char *open = ok ? strstr (svg->str, "<svg") : NULL;
  const char *end = open ? strchr (open, '>') : NULL;
  if (end)
    {
      g_autofree char *title =
          g_markup_printf_escaped ("\n<title>%s, step %" G_GINT64_FORMAT "</title>\n", page->title, page->snap->step);
      g_autofree char *desc =
          g_markup_printf_escaped ("<desc>Exported by ContrastLab %s. The run's configuration "
                                   "(contrastlab:config):\n%s</desc>",
                                   CL_VERSION, page->snap->config_ini ? page->snap->config_ini : "");
      gsize at = (gsize) (end + 1 - svg->str);
      g_string_insert (svg, (gssize) at, desc);
      g_string_insert (svg, (gssize) at, title);
    }
  if (ok)
    ok = sink_write (sink, (const unsigned char *) svg->str, (unsigned int) svg->len) == CAIRO_STATUS_SUCCESS;
  g_string_free (svg, TRUE);
  return ok;
}

/* cl_png writes atomically by itself (to a temp beside the path it is given); it is given our
 * temp so that the no-overwrite link still decides. Its messages name that temp: put the real
 * target in their place. */
static void
retarget_message (GError *error, const char *temp, const char *path)
{
  if (!error)
    return;
  g_autofree char *temp_display = g_filename_display_name (temp);
  g_autofree char *display = g_filename_display_name (path);
  GString *msg = g_string_new (error->message);
  g_string_replace (msg, temp_display, display, 0);
  g_free (error->message);
  error->message = g_string_free (msg, FALSE);
}

static gboolean
export_page (const char *path, ClExportFormat format, const Page *page, double scale, ClExportFlags flags,
             GError **error)
{
  if (!check_target (path, flags, error))
    return FALSE;
  Staged st = { 0 };
  if (format == CL_EXPORT_PNG)
    {
      /* cl_png writes its own temp beside ours and renames it onto ours; the commit then puts
       * ours in place (the descriptor stays with the file until then) */
      if (staged_open (&st, path, error) < 0)
        return FALSE;
      g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, page->snap->step);
      g_autofree char *events = page->snap->n_events > 0 ? cl_runs_events_csv (page->snap) : NULL;
      const ClPngText texts[] = {
        { "Software", "ContrastLab " CL_VERSION },
        { "Title", page->title },
        { "contrastlab:config", page->snap->config_ini ? page->snap->config_ini : "" },
        { "contrastlab:step", step },
        { "contrastlab:events", events }, /* last: left out when there were no live changes */
      };
      GError *png_error = NULL;
      if (!cl_png_export_figure (st.temp, page->width, page->height, scale, page->draw, page->data, texts,
                                 G_N_ELEMENTS (texts) - !events, &png_error))
        {
          retarget_message (png_error, st.temp, path);
          g_propagate_error (error, png_error);
          staged_discard (&st);
          return FALSE;
        }
    }
  else if (!staged_write (&st, path, format == CL_EXPORT_PDF ? write_pdf_body : write_svg_body, (gpointer) page, error))
    return FALSE;
  return staged_commit (&st, flags, error);
}

gboolean
cl_export_figure (const char *path, ClExportFormat format, ClFigureKind kind, const ClSnapshot *snap,
                  const ClFigureOptions *options, double scale, ClExportFlags flags, GError **error)
{
  FigureJob job = { kind, snap, options };
  Page page = { draw_figure, &job, 0, 0, cl_figure_title (kind), snap };
  cl_figure_export_size_for (kind, snap, &page.width, &page.height);
  return export_page (path, format, &page, scale, flags, error);
}

/* ---------------------------------------------------------------- dashboard */

#define DASH_COLUMNS 2
#define DASH_CELL_W 900
#define DASH_CELL_H 560
#define DASH_HEADER_H 84
#define DASH_GAP 12

void
cl_export_dashboard_size (int *width, int *height)
{
  int rows = (CL_N_FIGURES + DASH_COLUMNS - 1) / DASH_COLUMNS;
  *width = DASH_COLUMNS * DASH_CELL_W + (DASH_COLUMNS + 1) * DASH_GAP;
  *height = DASH_HEADER_H + rows * DASH_CELL_H + (rows + 1) * DASH_GAP;
}

/* One line naming the knobs that tell runs apart, from the snapshot's run.ini. */
static char *
dashboard_subtitle (const ClSnapshot *snap)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  if (!snap->config_ini || !cl_config_load_data (&cfg, snap->config_ini, "snapshot", NULL))
    return g_strdup ("");
  static const char *const keys[] = { "data.kind",  "data.bits",   "loss.kind", "loss.temperature",
                                      "model.arch", "train.batch", "train.lr",  "train.seed" };
  GString *out = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const ClParam *p = cl_param_lookup (keys[i]);
      if (!p)
        continue;
      g_autofree char *v = cl_config_get (&cfg, p);
      g_string_append_printf (out, "%s%s = %s", out->len ? "   ·   " : "", keys[i], v);
    }
  return g_string_free (out, FALSE);
}

void
cl_export_draw_dashboard (cairo_t *cr, double width, double height, const ClSnapshot *snap,
                          const ClFigureOptions *const *options)
{
  int w0, h0;
  cl_export_dashboard_size (&w0, &h0);
  cairo_save (cr);
  /* Laid out at its own size and scaled to fit, so the grid keeps its proportions. */
  double s = MIN (width / w0, height / h0);
  cairo_translate (cr, (width - w0 * s) / 2, (height - h0 * s) / 2);
  cairo_scale (cr, s, s);
  cl_plot_text_setup (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_font (cr, 26, TRUE);
  g_autofree char *title = g_strdup_printf ("ContrastLab — step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "%s",
                                            snap->step, snap->total_steps,
                                            snap->error      ? " (stopped)"
                                            : snap->finished ? " (finished)"
                                                             : "");
  cl_plot_text (cr, DASH_GAP + 8, 18, title, 0, 0, 0);
  g_autofree char *subtitle = dashboard_subtitle (snap);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  cl_plot_font (cr, 15, FALSE);
  cl_plot_text (cr, DASH_GAP + 8, 56, subtitle, 0, 0, 0);

  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      double x = DASH_GAP + (k % DASH_COLUMNS) * (DASH_CELL_W + DASH_GAP);
      double y = DASH_HEADER_H + DASH_GAP + (k / DASH_COLUMNS) * (DASH_CELL_H + DASH_GAP);
      cairo_save (cr);
      cairo_rectangle (cr, x, y, DASH_CELL_W, DASH_CELL_H);
      cairo_clip (cr);
      cairo_translate (cr, x, y);
      cl_figure_draw_with ((ClFigureKind) k, cr, DASH_CELL_W, DASH_CELL_H, snap, options ? options[k] : NULL);
      cairo_restore (cr);
      cairo_save (cr);
      cl_plot_set_rgb (cr, cl_plot_color_grid ());
      cairo_set_line_width (cr, 1);
      cairo_rectangle (cr, x - 0.5, y - 0.5, DASH_CELL_W + 1, DASH_CELL_H + 1);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------- the live dashboard */

const ClFigureKind cl_dashboard_panels[CL_DASHBOARD_N_PANELS] = { CL_FIGURE_LOSS, CL_FIGURE_PROBES, CL_FIGURE_VIEWS,
                                                                  CL_FIGURE_SIMILARITY };

void
cl_export_panels_size (int *width, int *height)
{
  *width = 2 * DASH_CELL_W + 3 * DASH_GAP;
  *height = DASH_HEADER_H + 2 * DASH_CELL_H + 3 * DASH_GAP;
}

/* The header shrinks with the page below the export width (on screen it is a thin title line). */
static double
panels_header (double width)
{
  int w0, h0;
  cl_export_panels_size (&w0, &h0);
  return round (MAX (30.0, DASH_HEADER_H * MIN (1.0, width / w0)));
}

void
cl_export_panel_rect (double width, double height, int i, double *x, double *y, double *w, double *h)
{
  double gap = width >= 1200 ? DASH_GAP : 6, top = panels_header (width);
  *w = MAX (1.0, (width - 3 * gap) / 2);
  *h = MAX (1.0, (height - top - 3 * gap) / 2);
  *x = gap + (i % 2) * (*w + gap);
  *y = top + gap + (i / 2) * (*h + gap);
}

int
cl_export_panel_hit (double width, double height, double px, double py)
{
  for (int i = 0; i < CL_DASHBOARD_N_PANELS; i++)
    {
      double x, y, w, h;
      cl_export_panel_rect (width, height, i, &x, &y, &w, &h);
      if (px >= x && px < x + w && py >= y && py < y + h)
        return cl_dashboard_panels[i];
    }
  return -1;
}

void
cl_export_draw_panels (cairo_t *cr, double width, double height, const ClSnapshot *snap,
                       const ClFigureOptions *const *options)
{
  int w0, h0;
  cl_export_panels_size (&w0, &h0);
  double top = panels_header (width), t = MIN (1.0, width / w0);
  cairo_save (cr);
  cl_plot_text_setup (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_font (cr, MAX (13.0, 26 * t), TRUE);
  g_autofree char *title = g_strdup_printf ("ContrastLab — step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "%s",
                                            snap->step, snap->total_steps,
                                            snap->error      ? " (stopped)"
                                            : snap->finished ? " (finished)"
                                                             : "");
  double tx = MAX (8.0, (DASH_GAP + 8) * t);
  if (top >= 60)
    {
      cl_plot_text (cr, tx, 18 * t, title, 0, 0, 0);
      g_autofree char *subtitle = dashboard_subtitle (snap);
      cl_plot_set_rgb (cr, cl_plot_color_muted ());
      cl_plot_font (cr, MAX (10.0, 15 * t), FALSE);
      cl_plot_text (cr, tx, 56 * t, subtitle, 0, 0, 0);
    }
  else
    cl_plot_text (cr, tx, top / 2, title, 0, 0.5, 0);
  for (int i = 0; i < CL_DASHBOARD_N_PANELS; i++)
    {
      ClFigureKind k = cl_dashboard_panels[i];
      double x, y, w, h;
      cl_export_panel_rect (width, height, i, &x, &y, &w, &h);
      cairo_save (cr);
      cairo_rectangle (cr, x, y, w, h);
      cairo_clip (cr);
      cairo_translate (cr, x, y);
      cl_figure_draw_with (k, cr, w, h, snap, options ? options[k] : NULL);
      cairo_restore (cr);
      cairo_save (cr);
      cl_plot_set_rgb (cr, cl_plot_color_grid ());
      cairo_set_line_width (cr, 1);
      cairo_rectangle (cr, x - 0.5, y - 0.5, w + 1, h + 1);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
  cairo_restore (cr);
}

typedef struct
{
  const ClSnapshot *snap;
  const ClFigureOptions *const *options;
} DashboardJob;

static void
draw_dashboard (cairo_t *cr, double w, double h, gpointer data)
{
  const DashboardJob *job = data;
  cl_export_draw_dashboard (cr, w, h, job->snap, job->options);
}

gboolean
cl_export_dashboard (const char *path, ClExportFormat format, const ClSnapshot *snap,
                     const ClFigureOptions *const *options, double scale, ClExportFlags flags, GError **error)
{
  DashboardJob job = { snap, options };
  Page page = { draw_dashboard, &job, 0, 0, "ContrastLab dashboard", snap };
  cl_export_dashboard_size (&page.width, &page.height);
  return export_page (path, format, &page, scale, flags, error);
}

/* ---------------------------------------------------------------------- CSV */

char *
cl_export_similarity_csv (const ClSnapshot *snap)
{
  const ClSimilarity *sim = &snap->similarity;
  int n = 2 * sim->m;
  GString *out = g_string_new ("label,image,view,class,code");
  for (int j = 0; j < n; j++)
    g_string_append_printf (out, ",i%d.v%d", j % sim->m, j / sim->m + 1);
  g_string_append_c (out, '\n');
  char a[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < n; i++)
    {
      g_string_append_printf (out, "i%d.v%d,%d,%d,%d,%u", i % sim->m, i / sim->m + 1, i % sim->m, i / sim->m + 1,
                              sim->label ? sim->label[i] : -1, sim->code ? (unsigned) sim->code[i] : 0u);
      for (int j = 0; j < n; j++)
        {
          float v = sim->sim[(gsize) i * n + j];
          g_string_append_c (out, ',');
          if (isfinite (v))
            g_string_append (out, g_ascii_formatd (a, sizeof a, "%.6g", v));
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

const char *const cl_export_csv_names[] = { "metrics.csv", "probes.csv", "clusters.csv", "similarity.csv", NULL };

char **
cl_export_csv_existing (const char *folder)
{
  GPtrArray *found = g_ptr_array_new ();
  for (int i = 0; cl_export_csv_names[i]; i++)
    {
      g_autofree char *path = g_build_filename (folder, cl_export_csv_names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        g_ptr_array_add (found, g_strdup (cl_export_csv_names[i]));
    }
  g_ptr_array_add (found, NULL);
  return (char **) g_ptr_array_free (found, FALSE);
}

gboolean
cl_export_csv_folder (const char *folder, const ClSnapshot *snap, ClExportFlags flags, GError **error)
{
  enum
  {
    N = 4
  };
  char *texts[N] = { cl_export_metrics_csv (snap), cl_export_probes_csv (snap), cl_export_clusters_csv (snap),
                     cl_export_similarity_csv (snap) };
  char *paths[N];
  Staged staged[N] = { { 0 } };
  gboolean ok = TRUE;
  for (int i = 0; i < N; i++)
    paths[i] = g_build_filename (folder, cl_export_csv_names[i], NULL);
  /* Every name is checked before anything is written, so a refusal leaves the folder as it was. */
  for (int i = 0; i < N && ok; i++)
    ok = check_target (paths[i], flags, error);
  for (int i = 0; i < N && ok; i++)
    {
      GString text = { texts[i], strlen (texts[i]), 0 };
      ok = staged_write (&staged[i], paths[i], write_string_body, &text, error);
    }
  int committed = 0;
  for (int i = 0; i < N && ok; i++)
    if ((ok = staged_commit (&staged[i], flags, error)))
      committed++;
  /* A late failure (a name taken meanwhile) takes back the files this call created. */
  if (!ok && !(flags & CL_EXPORT_OVERWRITE))
    for (int i = 0; i < committed; i++)
      (void) unlink (paths[i]);
  for (int i = 0; i < N; i++)
    {
      staged_discard (&staged[i]);
      g_free (paths[i]);
      g_free (texts[i]);
    }
  return ok;
}

static void
draw_panels (cairo_t *cr, double w, double h, gpointer data)
{
  const DashboardJob *job = data;
  cl_export_draw_panels (cr, w, h, job->snap, job->options);
}

gboolean
cl_export_panels (const char *path, ClExportFormat format, const ClSnapshot *snap,
                  const ClFigureOptions *const *options, double scale, ClExportFlags flags, GError **error)
{
  DashboardJob job = { snap, options };
  Page page = { draw_panels, &job, 0, 0, "ContrastLab dashboard", snap };
  cl_export_panels_size (&page.width, &page.height);
  return export_page (path, format, &page, scale, flags, error);
}
