#include "app/cl_sweep_follow.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/sweep/cl_sweep.h"
#include "ui/plots/cl_sweep_plot.h"

typedef struct
{
  GWeakRef main_window;
  char *dir;
  char *key; /* under which the main window knows this follow window */
  ClSweepGrid *grid;
  ClSweepRow *rows; /* one per cell; PENDING until the cell is finished */
  int n;
  int finished, running;
  guint timer;
  GtkLabel *status;
  GtkDrawingArea *figure;
} Follow;

static void
follow_free (Follow *f)
{
  if (f->timer)
    g_source_remove (f->timer);
  g_weak_ref_clear (&f->main_window);
  cl_sweep_grid_free (f->grid);
  g_free (f->rows);
  g_free (f->dir);
  g_free (f->key);
  g_free (f);
}

static Follow *
follow_of (GtkWindow *window)
{
  return g_object_get_data (G_OBJECT (window), "cl-sweep-follow");
}

gboolean
cl_sweep_follow_is_filling (const char *dir)
{
  g_autoptr (ClSweepGrid) grid = cl_sweep_plan_read (dir, NULL);
  if (!grid)
    return FALSE;
  for (int p = 0; p < cl_sweep_grid_n_points (grid); p++)
    if (!cl_sweep_cell_finished (grid, dir, p))
      return TRUE;
  return FALSE;
}

/* A cell is being run when another process holds its folder's locks (the CLI's cell lock,
 * held for the whole job, or the run writer's): a shared lock cannot be had then. A folder
 * without a holder is pending or was left by a killed job. */
static gboolean
lock_held (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  gboolean busy = flock (fd, LOCK_SH | LOCK_NB) != 0;
  close (fd);
  return busy;
}

static gboolean
cell_running (const char *cell_dir)
{
  return lock_held (cell_dir, ".contrastlab-cell.lock") || lock_held (cell_dir, ".contrastlab.lock");
}

static void
update_status (Follow *f)
{
  g_autofree char *text = NULL;
  if (f->finished == f->n)
    text = g_strdup_printf ("All %d cells finished", f->n);
  else
    text = g_strdup_printf ("%d of %d cells finished, %d running; the figure and the run list fill in as cells "
                            "finish",
                            f->finished, f->n, f->running);
  gtk_label_set_text (f->status, text);
}

/* Reads what changed since the last poll; TRUE while cells remain. */
static gboolean
poll_cells (Follow *f)
{
  g_autoptr (ClWindow) win = g_weak_ref_get (&f->main_window);
  int running = 0;
  gboolean changed = FALSE;
  for (int p = 0; p < f->n; p++)
    {
      if (f->rows[p].state != CL_SWEEP_POINT_PENDING)
        continue;
      g_autofree char *cell_dir = cl_sweep_cell_dir (f->grid, f->dir, p);
      if (!cl_sweep_cell_finished (f->grid, f->dir, p))
        {
          running += cell_running (cell_dir);
          continue;
        }
      ClSweepRow row;
      GError *error = NULL;
      if (!cl_sweep_cell_row (f->grid, f->dir, p, &row, &error))
        {
          /* A finished cell whose files are damaged is reported once and left out. */
          if (win)
            cl_window_show_error (win, error->message);
          g_error_free (error);
          row.state = CL_SWEEP_POINT_FAILED;
          row.n_targets = 0;
        }
      f->rows[p] = row;
      f->finished++;
      changed = TRUE;
      if (win && !cl_window_open_runs_folder (win, cell_dir, &error))
        {
          cl_window_show_error (win, error->message);
          g_error_free (error);
        }
    }
  changed = changed || running != f->running;
  f->running = running;
  if (changed)
    {
      update_status (f);
      gtk_widget_queue_draw (GTK_WIDGET (f->figure));
    }
  return f->finished < f->n;
}

static gboolean
on_timer (gpointer data)
{
  Follow *f = data;
  if (poll_cells (f))
    return G_SOURCE_CONTINUE;
  f->timer = 0;
  return G_SOURCE_REMOVE;
}

static void
draw_figure (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  (void) area;
  Follow *f = data;
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (f->grid, f->rows, f->n, NULL, -1);
  cl_sweep_plot_draw (cr, width, height, d);
}

/* Closed: polling stops, and the main window forgets it (an --open of the folder opens a new one). */
static void
on_destroy (GtkWidget *window, Follow *f)
{
  (void) window;
  if (f->timer)
    {
      g_source_remove (f->timer);
      f->timer = 0;
    }
  g_autoptr (ClWindow) win = g_weak_ref_get (&f->main_window);
  if (win)
    g_object_set_data (G_OBJECT (win), f->key, NULL);
}

static gboolean
present_later (gpointer window)
{
  gtk_window_present (window);
  g_object_unref (window);
  return G_SOURCE_REMOVE;
}

/* The main window's surface is shown after its "map" signal: present once it is. */
static void
present_after_map (GtkWindow *window)
{
  g_timeout_add (300, present_later, g_object_ref (window));
}

GtkWindow *
cl_sweep_follow_open (ClWindow *win, const char *dir, GError **error)
{
  /* One follow window per sweep folder and main window. */
  g_autofree char *key = g_strdup_printf ("cl-sweep-follow:%s", dir);
  GtkWindow *open = cl_sweep_follow_find (win, dir);
  if (open)
    {
      gtk_window_present (open);
      return open;
    }
  ClSweepGrid *grid = cl_sweep_plan_read (dir, error);
  if (!grid)
    return NULL;
  Follow *f = g_new0 (Follow, 1);
  g_weak_ref_init (&f->main_window, win);
  f->dir = g_strdup (dir);
  f->grid = grid;
  f->n = cl_sweep_grid_n_points (grid);
  f->rows = g_new0 (ClSweepRow, f->n);
  for (int p = 0; p < f->n; p++)
    {
      f->rows[p].point = p;
      f->rows[p].state = CL_SWEEP_POINT_PENDING;
    }

  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  g_autofree char *display = g_filename_display_name (dir);
  g_autofree char *title = g_strdup_printf ("Sweep — %s", display);
  gtk_window_set_title (window, title);
  gtk_window_set_transient_for (window, GTK_WINDOW (win));
  gtk_window_set_destroy_with_parent (window, TRUE);
  gtk_window_set_default_size (window, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT + 40);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  f->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (f->status, 0);
  gtk_label_set_wrap (f->status, TRUE);
  f->figure = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (f->figure), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (f->figure), TRUE);
  gtk_drawing_area_set_draw_func (f->figure, draw_figure, f, NULL);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (f->status));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (f->figure));
  gtk_window_set_child (window, box);
  g_object_set_data_full (G_OBJECT (window), "cl-sweep-follow", f, (GDestroyNotify) follow_free);
  f->key = g_steal_pointer (&key);
  g_object_set_data (G_OBJECT (win), f->key, window);
  g_signal_connect (window, "destroy", G_CALLBACK (on_destroy), f);

  poll_cells (f);
  update_status (f);
  if (f->finished < f->n)
    f->timer = g_timeout_add (CL_SWEEP_FOLLOW_POLL_MS, on_timer, f);
  /* On top of the main window: opened from --open, it is shown before the main window is. */
  if (gtk_widget_get_mapped (GTK_WIDGET (win)))
    gtk_window_present (window);
  else
    g_signal_connect_object (win, "map", G_CALLBACK (present_after_map), window, G_CONNECT_SWAPPED);
  return window;
}

GtkWindow *
cl_sweep_follow_find (ClWindow *win, const char *dir)
{
  g_autofree char *key = g_strdup_printf ("cl-sweep-follow:%s", dir);
  return g_object_get_data (G_OBJECT (win), key);
}

void
cl_sweep_follow_poll_now (GtkWindow *follow)
{
  Follow *f = follow_of (follow);
  if (!poll_cells (f) && f->timer)
    {
      g_source_remove (f->timer);
      f->timer = 0;
    }
}

void
cl_sweep_follow_get_counts (GtkWindow *follow, int *finished, int *running, int *total)
{
  Follow *f = follow_of (follow);
  *finished = f->finished;
  *running = f->running;
  *total = f->n;
}

const char *
cl_sweep_follow_get_status (GtkWindow *follow)
{
  return gtk_label_get_text (follow_of (follow)->status);
}

gboolean
cl_sweep_follow_is_polling (GtkWindow *follow)
{
  return follow_of (follow)->timer != 0;
}
