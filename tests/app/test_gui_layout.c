/* Also: the caption under a figure follows what the shown run did (cl_figure_caption_for).
 *
 * The window at 1024x700, in-process under Xvfb (issue 15: "a 1024x700 screenshot has the tab row
 * and the right axis inside the window"): the window does not ask for more than 1024x700, and on
 * every figure tab the whole tab row and the whole figure (whose right axis is drawn inside its own
 * area) lie inside the window. Checked for a preset of each kind of data. */
#include <gtk/gtk.h>
#include <string.h>

#include "app/cl_window_private.h"
#include "tests/app/gui_test_util.h"
#include "ui/plots/cl_figures.h"

#define SMALL_W 1024
#define SMALL_H 700

/* The stack switcher of `stack` under w (the figure tabs, not the sidebar's), depth first. */
static GtkWidget *
find_switcher (GtkWidget *w, GtkStack *stack)
{
  if (GTK_IS_STACK_SWITCHER (w) && gtk_stack_switcher_get_stack (GTK_STACK_SWITCHER (w)) == stack)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_switcher (c, stack);
      if (found)
        return found;
    }
  return NULL;
}

/* w's bounds in the window's coordinates lie inside the window's width x height. */
static void
assert_inside (GtkWidget *w, GtkWidget *win, const char *what)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (w, win, &r));
  const int W = gtk_widget_get_width (win), H = gtk_widget_get_height (win);
  if (r.origin.x < -0.5 || r.origin.y < -0.5 || r.origin.x + r.size.width > W + 0.5 ||
      r.origin.y + r.size.height > H + 0.5)
    g_error ("%s at x %.0f..%.0f, y %.0f..%.0f is not inside the %dx%d window", what, r.origin.x,
             r.origin.x + r.size.width, r.origin.y, r.origin.y + r.size.height, W, H);
}

static void
test_fits (gconstpointer data)
{
  const char *preset = data;
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_true (cl_config_apply_preset (&cfg, preset, NULL));
  cfg.train_steps = 100000;
  ClWindow *win = cl_window_new_for_preset (NULL, &cfg, preset);
  GtkWidget *w = GTK_WIDGET (win);
  gtk_window_set_default_size (GTK_WINDOW (win), SMALL_W, SMALL_H);
  gtk_window_present (GTK_WINDOW (win));
  gui_spin_ms (1500);

  /* What the window needs at least: a 1024-wide window fits it. */
  int min_w, nat_w, min_h, nat_h;
  gtk_widget_measure (w, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
  gtk_widget_measure (w, GTK_ORIENTATION_VERTICAL, SMALL_W, &min_h, &nat_h, NULL, NULL);
  g_test_message ("%s: minimum %dx%d, allocated %dx%d", preset, min_w, min_h, gtk_widget_get_width (w),
                  gtk_widget_get_height (w));
  g_assert_cmpint (min_w, <=, SMALL_W);
  g_assert_cmpint (min_h, <=, SMALL_H);
  g_assert_cmpint (gtk_widget_get_width (w), <=, SMALL_W);
  g_assert_cmpint (gtk_widget_get_height (w), <=, SMALL_H);

  GtkWidget *switcher = find_switcher (w, win->figure_stack);
  g_assert_nonnull (switcher);
  int tabs = 0;
  for (GtkWidget *b = gtk_widget_get_first_child (switcher); b; b = gtk_widget_get_next_sibling (b))
    if (gtk_widget_get_visible (b))
      {
        g_autofree char *what = g_strdup_printf ("tab %d", tabs);
        assert_inside (b, w, what);
        tabs++;
      }
  g_assert_cmpint (tabs, >=, 7);

  /* Every figure tab: the figure (and so its right axis and legend) inside the window. */
  GtkSelectionModel *pages = gtk_stack_get_pages (win->figure_stack);
  const guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));
  for (guint i = 0; i < n; i++)
    {
      GtkStackPage *page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *child = gtk_stack_page_get_child (page);
      if (gtk_stack_page_get_visible (page))
        {
          gtk_stack_set_visible_child (win->figure_stack, child);
          gui_spin_ms (200);
          g_assert_cmpint (gtk_widget_get_width (child), >, 200);
          assert_inside (child, w, gtk_stack_page_get_name (page));
        }
      g_object_unref (page);
    }
  g_object_unref (pages);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin_ms (100);
}

/* On randbits the class probe falls or rises: once two probe rounds exist the Probes caption is the
 * one fitted to the run, not the fixed text, and it follows new rounds. */
static void
test_caption_follows_run (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_true (cl_config_apply_preset (&cfg, "randbits", NULL));
  cfg.train_steps = 100000;
  cfg.train_batch = 16;
  cfg.probe_every = 2;
  cfg.probe_images = 200;
  ClWindow *win = cl_window_new_for_preset (NULL, &cfg, "randbits");
  gtk_window_present (GTK_WINDOW (win));
  gtk_stack_set_visible_child_name (win->figure_stack, cl_figure_slug (CL_FIGURE_PROBES));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->figure_stack), ==, cl_figure_slug (CL_FIGURE_PROBES));
  gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  int rounds = 0;
  while (g_get_monotonic_time () < end)
    {
      gui_spin_ms (50);
      const ClSnapshot *s = cl_window_shown_snapshot (win);
      if (s && s->n_probes > 0)
        {
          /* probe rows of one round share its step: count the rounds */
          rounds = 1;
          for (int i = 1; i < s->n_probes; i++)
            rounds += s->probes[i].step != s->probes[i - 1].step;
        }
      if (rounds >= 3)
        break;
    }
  g_assert_cmpint (rounds, >=, 3);
  const ClSnapshot *s = cl_window_shown_snapshot (win);
  g_autofree char *want = cl_figure_caption_for (CL_FIGURE_PROBES, s);
  g_assert_cmpstr (gtk_label_get_text (win->caption_label), ==, want);
  g_assert_cmpstr (want, !=, cl_figure_caption (CL_FIGURE_PROBES));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin_ms (100);
}

/* ------------------------------------------------------------ a large window */

/* A stopped run as the store lists it, with a long detail line ("class 0.467 · seed 12 · 0:22 ·
 * 89/1500 steps"). */
static ClRunInfo *
fake_run (int i)
{
  ClRunInfo *info = g_new0 (ClRunInfo, 1);
  info->id = g_strdup_printf ("20261207-2200%02d-fake", i);
  info->path = g_strdup_printf ("/nonexistent/%s", info->id);
  info->label = g_strdup_printf ("randbits run %d", i);
  info->summary = g_strdup ("randbits 10 bits · ntxent τ=0.1 · batch 256 · 1500 steps");
  info->seed = 12;
  info->duration = 22.0;
  info->steps = 89;
  info->total_steps = 1500;
  info->status = CL_RUN_STATUS_STOPPED;
  info->n_final = 1;
  info->final_targets = g_new0 (char *, 2);
  info->final_targets[0] = g_strdup ("class");
  info->final_accuracy = g_new (double, 1);
  info->final_accuracy[0] = 0.467;
  return info;
}

/* Adds runs first .. first + n - 1 to the window's list as a store listing would. */
static void
add_fake_runs (ClWindow *win, int first, int n)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_run_info_free);
  for (int i = first; i < first + n; i++)
    g_ptr_array_add (list, fake_run (i));
  cl_window_runs_apply_store_list (win, list, g_strdup (win->current_id));
}

static void
collect_details (GtkWidget *w, GPtrArray *out)
{
  if (GTK_IS_LABEL (w) && gtk_widget_has_css_class (w, "run-detail") && gtk_widget_get_mapped (w) &&
      strstr (gtk_label_get_text (GTK_LABEL (w)), "steps") != NULL)
    g_ptr_array_add (out, w);
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect_details (c, out);
}

/* The shown run rows' detail lines: none cut (a line longer than its label's width must wrap onto
 * a second line, not be ellipsized), each fitting on one line once the sidebar is as wide as in a
 * 1920 px window (its natural width against the label's width plus what the sidebar gains there);
 * returns how many are on one line now. */
static int
details_whole (ClWindow *win, int *n_rows)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  collect_details (GTK_WIDGET (win->runs_view), labels);
  int one_line = 0;
  int gain_1920 = cl_window_sidebar_width_for (1920) - gtk_paned_get_position (win->main_paned);
  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = labels->pdata[i];
      const char *text = gtk_label_get_text (GTK_LABEL (label));
      int min_w, nat_w, min_h, line_h;
      gtk_widget_measure (label, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
      gtk_widget_measure (label, GTK_ORIENTATION_VERTICAL, nat_w, &min_h, &line_h, NULL, NULL);
      int w = gtk_widget_get_width (label), h = gtk_widget_get_height (label);
      if (nat_w > w && 2 * h < 3 * line_h) /* one line high */
        g_error ("run detail cut: \"%s\" needs %d px on one line, has %dx%d", text, nat_w, w, h);
      one_line += nat_w <= w;
      if (nat_w > w + gain_1920)
        g_error ("run detail \"%s\" (%d px) would not fit on one line at 1920 (%d px)", text, nat_w, w + gain_1920);
    }
  *n_rows = (int) labels->len;
  return one_line;
}

/* The mapped label under w (depth first) whose text is text, or NULL. */
static GtkWidget *
find_label (GtkWidget *w, const char *text)
{
  if (GTK_IS_LABEL (w) && gtk_widget_get_mapped (w) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (w)), text) == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label (c, text);
      if (found)
        return found;
    }
  return NULL;
}

/* The B chooser with a stopped run chosen: its button shows the run's title whole ("randbits run
 * 0 · stopped", not "randbits run 0 · stopped · randbits 10 bi..."), with the whole choice as its
 * tooltip; its popup lists each run's title and parameters whole, wrapped inside the window. */
static void
choosers_readable (ClWindow *win)
{
  win->syncing_choices = TRUE; /* shown, not loaded: the fake runs have no folder */
  gtk_drop_down_set_selected (win->run_b, 1);
  win->syncing_choices = FALSE;
  gui_spin_ms (200);
  ClRunEntry *e = gtk_drop_down_get_selected_item (win->run_b);
  g_assert_nonnull (e);
  g_autofree char *title = NULL, *choice = NULL, *summary = NULL;
  g_object_get (e, "title", &title, "choice", &choice, "summary", &summary, NULL);
  g_assert_true (g_str_has_suffix (title, " · stopped"));
  GtkWidget *button_label = find_label (GTK_WIDGET (win->run_b), title);
  if (button_label == NULL)
    g_error ("the B chooser's button does not show the title \"%s\" alone", title);
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (button_label))));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button_label), ==, choice);

  g_signal_emit_by_name (win->run_b, "activate");
  gui_spin_ms (400);
  GtkWidget *list_title = NULL;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (win->run_b)); c && !list_title;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_POPOVER (c))
      list_title = find_label (c, title);
  g_assert_nonnull (list_title);
  GtkWidget *list_summary = gtk_widget_get_next_sibling (list_title);
  g_assert_true (GTK_IS_LABEL (list_summary));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list_summary)), ==, summary);
  g_assert_true (gtk_widget_get_mapped (list_summary));
  /* wider than the button: names on one or two lines, not a narrow column */
  g_assert_cmpint (gtk_widget_get_width (list_title), >=, 300);
  /* and the detail line that tells runs of one preset apart */
  g_autofree char *detail = NULL;
  g_object_get (e, "detail", &detail, NULL);
  GtkWidget *list_detail = gtk_widget_get_next_sibling (list_summary);
  g_assert_true (GTK_IS_LABEL (list_detail));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (list_detail)), ==, detail);
  for (GtkWidget *l = list_title; l; l = l == list_title ? list_summary : NULL)
    {
      g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (l))));
      assert_inside (l, GTK_WIDGET (win), gtk_label_get_text (GTK_LABEL (l)));
    }
  GtkWidget *popover = gtk_widget_get_ancestor (list_title, GTK_TYPE_POPOVER);
  gtk_popover_popdown (GTK_POPOVER (popover));
  gui_spin_ms (200);
  win->syncing_choices = TRUE;
  gtk_drop_down_set_selected (win->run_b, 0);
  win->syncing_choices = FALSE;
}

/* Asks for width x height and lets the window settle; returns the width it got (the screen may
 * hold less). */
static int
resize_to (ClWindow *win, int width, int height)
{
  gtk_window_set_default_size (GTK_WINDOW (win), width, height);
  int last = -1;
  for (int i = 0; i < 40 && gtk_widget_get_width (GTK_WIDGET (win)) != last; i++)
    {
      last = gtk_widget_get_width (GTK_WIDGET (win));
      gui_spin_ms (150);
    }
  return gtk_widget_get_width (GTK_WIDGET (win));
}

/* At 1024x700 the sidebar is 300 px and a run row's detail line (class probe, seed, time, steps)
 * wraps instead of losing its steps; wider windows widen the sidebar (a quarter of the window up
 * to 440 px), which at 1920 holds each detail line on one line. A run added at the top of a list
 * scrolled to its top is shown. Once the user moved the handle, the sidebar keeps that width. */
static void
test_wide_window (void)
{
  g_assert_cmpint (cl_window_sidebar_width_for (1024), ==, 300);
  g_assert_cmpint (cl_window_sidebar_width_for (1280), ==, 320);
  g_assert_cmpint (cl_window_sidebar_width_for (1920), ==, 440);
  ClConfig cfg;
  gui_test_config (&cfg, 16, 100000);
  cfg.probe_every = 0;
  ClWindow *win = cl_window_new (NULL, &cfg);
  gtk_window_set_default_size (GTK_WINDOW (win), SMALL_W, SMALL_H);
  gtk_window_present (GTK_WINDOW (win));
  g_assert_true (gui_spin_until (gui_has_rows, win, 120));
  cl_window_show_runs (win, TRUE);
  add_fake_runs (win, 0, 12);
  g_assert_cmpint (resize_to (win, SMALL_W, SMALL_H), <=, SMALL_W); /* less the window's shadow */
  g_assert_cmpint (gtk_paned_get_position (win->main_paned), ==, 300);
  /* the runs page's one-line note is whole at 300 px (it read "... A and B compa...") */
  GtkWidget *note = find_label (GTK_WIDGET (win), "All runs are kept; tick runs to overlay them.");
  g_assert_nonnull (note);
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (note))));
  int rows, one_line = details_whole (win, &rows);
  g_test_message ("%dx%d: %d run rows shown, %d detail lines on one line", SMALL_W, SMALL_H, rows, one_line);
  g_assert_cmpint (rows, >=, 2);
  g_assert_cmpint (one_line, <, rows); /* wrapped, not cut */

  /* the list is at its top: a new run comes in at the top and is shown there */
  GtkAdjustment *v = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (win->runs_view));
  g_assert_cmpfloat (gtk_adjustment_get_value (v), <, 1.0);
  g_assert_cmpfloat (gtk_adjustment_get_upper (v), >, gtk_adjustment_get_page_size (v) + 50); /* it scrolls */
  add_fake_runs (win, 12, 1);
  gui_spin_ms (300);
  g_test_message ("after a new run: scrolled %.0f px", gtk_adjustment_get_value (v));
  g_assert_cmpfloat (gtk_adjustment_get_value (v), <, 1.0);

  /* as wide as the screen lets it (the tests' screen is 1280 px) */
  int wide = resize_to (win, 1920, 1080);
  g_test_message ("wide window: %d px, sidebar %d px", wide, gtk_paned_get_position (win->main_paned));
  g_assert_cmpint (wide, >=, 1240);
  g_assert_cmpint (gtk_paned_get_position (win->main_paned), ==, cl_window_sidebar_width_for (wide));
  g_assert_cmpint (gtk_paned_get_position (win->main_paned), >, 300);
  details_whole (win, &rows);
  choosers_readable (win);

  /* the user's width stays */
  gtk_paned_set_position (win->main_paned, 360);
  resize_to (win, 1100, SMALL_H);
  g_assert_cmpint (gtk_paned_get_position (win->main_paned), ==, 360);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin_ms (100);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_dir = g_dir_make_tmp ("contrastlab-layout-config-XXXXXX", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_dir, TRUE);
  gtk_test_init (&argc, &argv, NULL);
  /* The app's own style sheet, as cl_app.c installs it at start-up (it trims the tabs). */
  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/contrastlab/ContrastLab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (css);
  g_autofree char *data_dir = g_dir_make_tmp ("contrastlab-layout-data-XXXXXX", NULL);
  g_setenv ("CONTRASTLAB_DATA_DIR", data_dir, TRUE);
  g_test_add_func ("/gui/caption-follows-run", test_caption_follows_run);
  g_test_add_data_func ("/gui/layout/fits-1024x700/randbits", "randbits", test_fits);
  g_test_add_data_func ("/gui/layout/fits-1024x700/local-features", "local-features", test_fits);
  g_test_add_data_func ("/gui/layout/fits-1024x700/default", "default", test_fits);
  g_test_add_func ("/gui/layout/wide-window", test_wide_window);
  return g_test_run ();
}
