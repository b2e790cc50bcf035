/* The sidebar's controls, in-process under Xvfb: every control reached with Tab, values typed
 * (exactly, "auto", refused text), the restart bar, and controls that do nothing for the next
 * run's data kind dimmed with a tooltip saying why. */
#include <gtk/gtk.h>
#include <string.h>

#include "app/cl_window_private.h"
#include "tests/app/gui_test_util.h"

static gboolean
is_pending (gpointer row)
{
  return gtk_widget_has_css_class (GTK_WIDGET (row), "pending");
}

/* Walks the Tab chain twice round and records every widget that took the focus. */
static GPtrArray *
tab_chain (ClWindow *win)
{
  GPtrArray *seen = g_ptr_array_new ();
  for (int i = 0; i < 300; i++)
    {
      g_signal_emit_by_name (win, "move-focus", GTK_DIR_TAB_FORWARD);
      GtkWidget *f = gtk_root_get_focus (GTK_ROOT (win));
      if (f)
        g_ptr_array_add (seen, f);
    }
  return seen;
}

static gboolean
reached (GPtrArray *seen, GtkWidget *control)
{
  for (guint i = 0; i < seen->len; i++)
    if (seen->pdata[i] == control || gtk_widget_is_ancestor (seen->pdata[i], control))
      return TRUE;
  return FALSE;
}

static gboolean
reached_action (GPtrArray *seen, const char *action)
{
  for (guint i = 0; i < seen->len; i++)
    if (GTK_IS_ACTIONABLE (seen->pdata[i]) && g_strcmp0 (gtk_actionable_get_action_name (seen->pdata[i]), action) == 0)
      return TRUE;
  return FALSE;
}

static int
count_reached_type (GPtrArray *seen, GType ancestor_type)
{
  GHashTable *distinct = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < seen->len; i++)
    if (gtk_widget_get_ancestor (seen->pdata[i], ancestor_type))
      g_hash_table_add (distinct, seen->pdata[i]);
  int n = g_hash_table_size (distinct);
  g_hash_table_unref (distinct);
  return n;
}

/* Every control can be reached with Tab: each parameter's slider, spin button or drop-down,
 * the header bar's buttons (presets and main menu too), the note's close button, the figure
 * tabs, on the Similarity page its row order, on the Runs page the filter and each row's menu. */
static void
test_keyboard_reaches_every_control (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 16, 0);
  /* A kept run before this one (a reset ends it), so the run list has a row with a tick (the
   * recording run's cannot be ticked). */
  ClWindow *win = gui_present_window (&cfg, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.reset", NULL));
  gui_spin_until (gui_message_dialog_shown, NULL, 0.5); /* let it map */
  GPtrArray *seen = tab_chain (win);
  int n_params, n_rows = 0;
  const ClParam *params = cl_params (&n_params);
  for (int i = 0; i < n_params; i++)
    {
      ClParamRow *row = cl_window_get_param_row (win, params[i].key);
      if (!row)
        continue;
      n_rows++;
      if (!reached (seen, cl_param_row_get_control (row)))
        g_error ("%s cannot be reached with Tab", params[i].key);
    }
  g_assert_cmpint (n_rows, >, 10);
  g_assert_true (reached_action (seen, "win.play-pause"));
  g_assert_true (reached_action (seen, "win.reset"));
  g_assert_true (reached_action (seen, "win.export"));
  /* The presets button and the main menu; the preset's "Try this" note can be dismissed. */
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_MENU_BUTTON), ==, 2);
  g_assert_true (reached (seen, GTK_WIDGET (win->preset_button)));
  g_assert_true (gtk_widget_get_visible (win->try_note));
  g_assert_true (reached_action (seen, "win.dismiss-try"));
  /* The dashboard and figure tabs, and the sidebar's Controls / Runs tabs. */
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_STACK_SWITCHER), ==, 1 + CL_N_FIGURES + 2);
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_DROP_DOWN), >, 0);
  int dropdowns_before = count_reached_type (seen, GTK_TYPE_DROP_DOWN);
  g_ptr_array_unref (seen);

  /* The Similarity page adds its row-order drop-down to the chain. */
  cl_window_show_figure (win, CL_FIGURE_SIMILARITY);
  seen = tab_chain (win);
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_DROP_DOWN), ==, dropdowns_before + 1);
  g_ptr_array_unref (seen);

  /* The Runs page: the A and B drop-downs, the list (rows and their ticks), its buttons. */
  cl_window_show_runs (win, TRUE);
  seen = tab_chain (win);
  g_assert_true (reached_action (seen, "win.open-runs"));
  g_assert_true (reached_action (seen, "win.clear-overlays"));
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_LIST_VIEW), >, 0);
  int ticks = 0;
  for (guint i = 0; i < seen->len; i++)
    ticks += GTK_IS_CHECK_BUTTON (seen->pdata[i]) && gtk_widget_get_ancestor (seen->pdata[i], GTK_TYPE_LIST_VIEW);
  g_assert_cmpint (ticks, >, 0);
  /* The filter, and each row's menu (rename, note, trash). */
  g_assert_true (reached (seen, GTK_WIDGET (win->run_filter)));
  int row_menus = 0;
  for (guint i = 0; i < seen->len; i++)
    row_menus += gtk_widget_get_ancestor (seen->pdata[i], GTK_TYPE_MENU_BUTTON) &&
                 gtk_widget_get_ancestor (seen->pdata[i], GTK_TYPE_LIST_VIEW);
  g_assert_cmpint (row_menus, >, 0);
  /* The live run's drop-downs replace the parameter drop-downs in the chain. */
  g_assert_cmpint (count_reached_type (seen, GTK_TYPE_DROP_DOWN), ==, 2 + 1);
  g_ptr_array_unref (seen);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
temperature_applied (gpointer data)
{
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (data));
  gboolean ok = s->n_events >= 1 && strcmp (s->events[s->n_events - 1].new_value, "0.05") == 0;
  cl_snapshot_unref (s);
  return ok;
}

/* Values can be typed: exactly (a slider cannot hit tau = 0.05), "auto" where the table has one,
 * and bad text changes nothing. A restart parameter lights the restart button, which sits below
 * the scrolled list so it never scrolls out of view. */
static void
test_typed_values_and_restart_bar (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 16, 0);
  cfg.train_threads = 1;
  ClWindow *win = gui_present_window (&cfg, 1);

  ClParamRow *tau = cl_window_get_param_row (win, "loss.temperature");
  g_autofree char *reason = NULL;
  g_assert_false (cl_param_row_commit_text (tau, "warm", &reason));
  g_assert_nonnull (strstr (reason, "not a number"));
  g_clear_pointer (&reason, g_free);
  g_assert_false (cl_param_row_commit_text (tau, "50", &reason));
  g_assert_nonnull (strstr (reason, "expected 0.01 to 10"));
  g_assert_true (cl_param_row_commit_text (tau, "0.05", NULL));
  g_assert_true (gui_spin_until (temperature_applied, win, 30));

  GtkWidget *restart = cl_window_get_restart_button (win);
  g_assert_null (gtk_widget_get_ancestor (restart, GTK_TYPE_SCROLLED_WINDOW));
  g_assert_false (gtk_widget_get_visible (restart));
  ClParamRow *threads = cl_window_get_param_row (win, "train.threads");
  g_assert_true (cl_param_row_commit_text (threads, "auto", NULL));
  ClParamRow *steps = cl_window_get_param_row (win, "train.steps");
  g_clear_pointer (&reason, g_free);
  g_assert_false (cl_param_row_commit_text (steps, "12.5", &reason));
  g_assert_nonnull (strstr (reason, "whole number"));
  g_assert_true (cl_param_row_commit_text (steps, "300", NULL));
  gui_spin_until (gui_message_dialog_shown, NULL, 0.3); /* let it lay out */
  g_assert_true (is_pending (threads) && is_pending (steps));
  g_assert_true (gtk_widget_get_visible (restart));
  g_assert_true (gtk_widget_get_mapped (restart));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (restart)), ==, "Restart to apply 2 changes");
  g_signal_emit_by_name (restart, "clicked"); /* activate would wait for its press animation */
  gui_spin_until (gui_message_dialog_shown, NULL, 0.3);
  g_assert_false (gtk_widget_get_visible (restart));
  g_assert_false (is_pending (steps));
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  g_assert_nonnull (strstr (s->config_ini, "\nsteps=300\n"));
  g_assert_nonnull (strstr (s->config_ini, "\nthreads=0\n"));
  g_assert_nonnull (strstr (s->config_ini, "\ntemperature=0.05\n"));
  cl_snapshot_unref (s);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
is_dimmed (ClParamRow *row)
{
  const char *tip = gtk_widget_get_tooltip_text (GTK_WIDGET (row));
  gboolean says = tip && g_str_has_prefix (tip, "Not used with ");
  gboolean dimmed = gtk_widget_has_css_class (GTK_WIDGET (row), "not-applicable");
  /* The mark, the tooltip and the getter never disagree. */
  g_assert_cmpint (says, ==, dimmed);
  g_assert_cmpint (!cl_param_row_get_applies (row), ==, dimmed);
  return dimmed;
}

static gboolean
bg_row_applies (gpointer win)
{
  return !is_dimmed (cl_window_get_param_row (win, "data.bg_per_view"));
}

static gboolean
lambda_row_applies (gpointer win)
{
  return !is_dimmed (cl_window_get_param_row (win, "loss.lambda"));
}

static gboolean
pool_row_applies (gpointer win)
{
  return !is_dimmed (cl_window_get_param_row (win, "data.pool"));
}

/* The parameter table says which data kinds and losses a parameter acts on; rows for the others
 * are dimmed, their tooltip says why (the next run's kind or loss, and those that use it), and they
 * follow the data.kind and loss.kind drop-downs. */
static void
test_not_applicable_dimmed (void)
{
  /* The table: data.pool and data.overlay_layout are overlay's, data.big_size two-objects', data.bg_per_view
   * multi-objects'; everything else acts on every kind. */
  int n_params;
  const ClParam *params = cl_params (&n_params);
  const char *const *kinds = cl_param_lookup ("data.kind")->choices;
  int limited = 0;
  for (int i = 0; i < n_params; i++)
    {
      g_autofree char *text = cl_param_kinds_text (&params[i]);
      const char *want = NULL;
      if (strcmp (params[i].key, "data.pool") == 0 || strcmp (params[i].key, "data.overlay_layout") == 0)
        want = "overlay";
      else if (strcmp (params[i].key, "data.big_size") == 0)
        want = "two-objects";
      else if (strcmp (params[i].key, "data.bg_per_view") == 0)
        want = "multi-objects";
      g_assert_cmpstr (text, ==, want);
      for (int k = 0; kinds[k]; k++)
        g_assert_cmpint (cl_param_applies_to_kind (&params[i], k), ==, !want || strcmp (kinds[k], want) == 0);
      limited += want != NULL;
    }
  g_assert_cmpint (limited, ==, 4);
  /* And the losses: λ weighs the distribution term of decoupled and swd-*, τ scales the logits
   * of ntxent and decoupled (engine/nn/cl_loss.c); nothing else depends on loss.kind. */
  const char *const *losses = cl_param_lookup ("loss.kind")->choices;
  for (int i = 0; i < n_params; i++)
    {
      g_autofree char *text = cl_param_losses_text (&params[i]);
      const char *want = NULL;
      if (strcmp (params[i].key, "loss.lambda") == 0)
        want = "decoupled, swd-normal, swd-cube or swd-sphere";
      else if (strcmp (params[i].key, "loss.temperature") == 0)
        want = "ntxent or decoupled";
      g_assert_cmpstr (text, ==, want);
      for (int k = 0; losses[k]; k++)
        g_assert_cmpint (cl_param_applies_to_loss (&params[i], k), ==, !want || strstr (want, losses[k]) != NULL);
    }

  ClConfig cfg;
  gui_test_config (&cfg, 16, 100000);
  g_assert_true (cl_config_set (&cfg, "data.kind", "randbits", NULL));
  cfg.probe_every = 0;
  ClWindow *win = gui_present_window (&cfg, -1);
  g_assert_true (gui_spin_until (gui_has_rows, win, 120));
  ClParamRow *bg = cl_window_get_param_row (win, "data.bg_per_view");
  ClParamRow *pool = cl_window_get_param_row (win, "data.pool");
  ClParamRow *big = cl_window_get_param_row (win, "data.big_size");
  ClParamRow *tau = cl_window_get_param_row (win, "loss.temperature");
  ClParamRow *bits = cl_window_get_param_row (win, "data.bits");
  g_assert_true (bg && pool && big && tau && bits);
  g_assert_true (is_dimmed (bg) && is_dimmed (pool) && is_dimmed (big));
  g_assert_false (is_dimmed (tau) || is_dimmed (bits));
  const char *tip = gtk_widget_get_tooltip_text (GTK_WIDGET (bg));
  g_assert_true (g_str_has_prefix (tip, "Not used with randbits data: only multi-objects uses it (data.kind)."));
  /* The table's tooltip follows: the key and its help. */
  g_assert_nonnull (strstr (tip, "data.bg_per_view\n"));
  g_assert_nonnull (strstr (tip, cl_param_row_get_param (bg)->help));
  /* Still settable (for a later switch of kind). */
  g_assert_true (gtk_widget_get_sensitive (cl_param_row_get_control (bg)));

  /* Choosing multi-objects for the next run brightens its control and dims the others. */
  ClParamRow *kind = cl_window_get_param_row (win, "data.kind");
  GtkWidget *dd = cl_param_row_get_control (kind);
  g_assert_true (GTK_IS_DROP_DOWN (dd));
  guint multi = 0;
  while (kinds[multi] && strcmp (kinds[multi], "multi-objects") != 0)
    multi++;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), multi);
  g_assert_true (gui_spin_until (bg_row_applies, win, 10));
  g_assert_true (is_pending (kind));
  g_assert_true (is_dimmed (pool) && is_dimmed (big));
  g_assert_false (is_dimmed (tau) || is_dimmed (bits));
  g_assert_null (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (bg)), "Not used"));
  /* Overlay: the pattern count is the one that applies. */
  guint overlay = 0;
  while (kinds[overlay] && strcmp (kinds[overlay], "overlay") != 0)
    overlay++;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), overlay);
  g_assert_true (gui_spin_until (pool_row_applies, win, 10));
  g_assert_true (is_dimmed (bg) && is_dimmed (big));
  g_assert_true (g_str_has_prefix (gtk_widget_get_tooltip_text (GTK_WIDGET (bg)),
                                   "Not used with overlay data: only multi-objects uses it"));

  /* ntxent (the default) ignores λ; swd-sphere ignores τ (a live change: the rows follow at once). */
  ClParamRow *lambda = cl_window_get_param_row (win, "loss.lambda");
  g_assert_true (is_dimmed (lambda));
  g_assert_true (g_str_has_prefix (gtk_widget_get_tooltip_text (GTK_WIDGET (lambda)),
                                   "Not used with the ntxent loss: only decoupled, swd-normal, swd-cube or swd-sphere "
                                   "use it (loss.kind)."));
  GtkWidget *loss = cl_param_row_get_control (cl_window_get_param_row (win, "loss.kind"));
  guint sphere = 0;
  while (losses[sphere] && strcmp (losses[sphere], "swd-sphere") != 0)
    sphere++;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (loss), sphere);
  g_assert_true (gui_spin_until (lambda_row_applies, win, 10));
  g_assert_true (is_dimmed (tau));
  g_assert_true (g_str_has_prefix (gtk_widget_get_tooltip_text (GTK_WIDGET (tau)),
                                   "Not used with the swd-sphere loss: only ntxent or decoupled use it (loss.kind)."));
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
collect_accelerators (GtkWidget *w, GString *out)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (w))
    {
      g_autofree char *accel = NULL;
      g_object_get (w, "accelerator", &accel, NULL);
      if (accel)
        g_string_append_printf (out, " %s ", accel);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect_accelerators (c, out);
}

/* Every tab a mnemonic opens (the figures' and the sidebar's) is in the Keyboard Shortcuts window,
 * under the same key. */
static void
assert_tabs_listed (GtkStack *stack, const char *accels)
{
  GtkSelectionModel *pages = gtk_stack_get_pages (stack);
  int listed = 0;
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      GtkStackPage *page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      const char *title = gtk_stack_page_get_title (page);
      const char *mark = title && gtk_stack_page_get_use_underline (page) ? strchr (title, '_') : NULL;
      if (mark && mark[1])
        {
          g_autofree char *key = g_strdup_printf (" <Alt>%c ", g_ascii_tolower (mark[1]));
          if (!strstr (accels, key))
            g_error ("tab \"%s\" (Alt+%c) is missing from the Keyboard Shortcuts window", title, mark[1]);
          listed++;
        }
      g_object_unref (page);
    }
  g_object_unref (pages);
  g_assert_cmpint (listed, >=, 2);
}

static void
test_help_lists_every_tab (void)
{
  g_autoptr (GtkBuilder) help = gtk_builder_new_from_resource ("/org/contrastlab/ContrastLab/gtk/help-overlay.ui");
  GtkWidget *overlay = GTK_WIDGET (gtk_builder_get_object (help, "help_overlay"));
  g_assert_nonnull (overlay);
  GString *accels = g_string_new (NULL);
  collect_accelerators (overlay, accels);
  ClConfig cfg;
  gui_test_config (&cfg, 16, 0);
  ClWindow *win = gui_present_window (&cfg, -1);
  assert_tabs_listed (win->figure_stack, accels->str);
  assert_tabs_listed (win->sidebar_stack, accels->str);
  g_string_free (accels, TRUE);
  gtk_window_destroy (GTK_WINDOW (overlay));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  /* Runs go to a private store, never to the user's data dir. */
  g_autofree char *data_dir = g_dir_make_tmp ("contrastlab-gui-controls-XXXXXX", NULL);
  g_assert_nonnull (data_dir);
  g_setenv ("CONTRASTLAB_DATA_DIR", data_dir, TRUE);
  g_test_add_func ("/gui/keyboard-reaches-every-control", test_keyboard_reaches_every_control);
  g_test_add_func ("/gui/typed-values-and-restart-bar", test_typed_values_and_restart_bar);
  g_test_add_func ("/gui/controls/not-applicable-dimmed", test_not_applicable_dimmed);
  g_test_add_func ("/gui/controls/help-lists-every-tab", test_help_lists_every_tab);
  return g_test_run ();
}
