/* The run history, in-process under Xvfb: every run kept (resets included), overlays, A/B and opened
 * folders; the list and the A/B drop-downs say the same thing
 * and follow each other; a damaged run says why; runs can be renamed, annotated, deleted to the
 * trash with undo, and filtered by preset, words or a parameter's value. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "app/cl_window_private.h"
#include "engine/store/cl_runs.h"
#include "tests/app/gui_test_util.h"
#include "ui/cl_png.h"

static char *trash_dir;

/* Starts a run of cfg in win and lets it write a few rows to the store. */
static void
make_run (ClWindow *win, const ClConfig *cfg)
{
  win->config = *cfg;
  cl_window_start_run (win);
  g_assert_true (gui_spin_until (gui_has_rows, win, 120));
  cl_window_record_runs_now (win);
  cl_window_runs_refresh (win);
}

static ClRunEntry *
entry (ClWindow *win, const char *key)
{
  ClRunEntry *e = g_hash_table_lookup (win->entries, key);
  g_assert_nonnull (e);
  return e;
}

/* The text drop-down dd shows for e (its item bound to the same entry, read as the factory
 * binds it). */
static const char *
choice_text (GtkDropDown *dd, ClRunEntry *e)
{
  GListModel *model = gtk_drop_down_get_model (dd);
  for (guint i = 1; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (ClRunEntry) item = g_list_model_get_item (model, i);
      if (item == e)
        return item->choice;
    }
  return NULL;
}

static void
assert_list_and_choices_agree (ClWindow *win)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (win->runs));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (win->run_a)), ==, n + 1);
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (win->run_b)), ==, n + 1);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (win->runs), i);
      g_autofree char *want = *e->summary ? g_strdup_printf ("%s · %s", e->title, e->summary) : g_strdup (e->title);
      g_assert_cmpstr (choice_text (win->run_a, e), ==, want);
      g_assert_cmpstr (choice_text (win->run_b, e), ==, want);
    }
}

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

static char *
current_key (ClWindow *win)
{
  return g_strdup (win->current_id);
}

/* The drop-downs hold the list's entries and their texts, kept in step when a run's label or
 * values change (not only when runs come or go); a damaged run's reason is in its row. */
static void
test_list_and_choices_agree (void)
{
  ClConfig cfg;
  ClWindow *win = gui_new_small_window (&cfg);
  g_autofree char *first = current_key (win);
  cfg.train_seed = 2;
  make_run (win, &cfg);
  g_autofree char *second = current_key (win);
  assert_list_and_choices_agree (win);

  /* B = the first run, then its label changes: the drop-down's text follows, B stays on it. */
  GError *error = NULL;
  g_assert_true (cl_window_compare_runs (win, NULL, first, &error));
  g_assert_no_error (error);
  g_assert_true (cl_window_rename_run (win, first, "baseline τ 0.1", &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (entry (win, first)->title, "baseline τ 0.1"));
  assert_list_and_choices_agree (win);
  g_assert_true (g_str_has_prefix (choice_text (win->run_b, entry (win, first)), "baseline τ 0.1"));
  g_assert_true (gtk_drop_down_get_selected_item (win->run_b) == (gpointer) entry (win, first));
  g_assert_cmpstr (cl_window_get_figure_options (win, CL_FIGURE_LOSS)->label_b, ==, "baseline τ 0.1");
  g_autoptr (ClRunInfo) stored = NULL;
  g_autoptr (GPtrArray) kept = cl_window_list_kept_runs (win);
  for (guint i = 0; i < kept->len; i++)
    if (strcmp (((ClRunInfo *) kept->pdata[i])->id, first) == 0)
      stored = cl_run_info_copy (kept->pdata[i]);
  g_assert_nonnull (stored);
  g_assert_cmpstr (stored->label, ==, "baseline τ 0.1");
  g_assert_false (cl_window_rename_run (win, first, "  ", &error));
  g_clear_error (&error);

  /* The live run's values change (τ, live): its row and both drop-downs say the new value. */
  g_assert_true (cl_param_row_commit_text (cl_window_get_param_row (win, "loss.temperature"), "0.35", NULL));
  for (int tries = 0; tries < 200 && !strstr (entry (win, second)->summary, "0.35"); tries++)
    {
      gui_spin ();
      g_usleep (20000);
      cl_window_record_runs_now (win);
      cl_window_runs_refresh (win);
    }
  g_assert_nonnull (strstr (entry (win, second)->summary, "0.35"));
  assert_list_and_choices_agree (win);
  g_assert_nonnull (strstr (choice_text (win->run_a, entry (win, second)), "0.35"));

  /* Damage the first run's metadata (info.ini junk): a new window lists it damaged, saying why. */
  g_autofree char *folder = g_strdup (entry (win, first)->info->path);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
  g_autofree char *info_ini = g_build_filename (folder, "info.ini", NULL);
  g_assert_true (g_file_set_contents (info_ini, "\x01\x02 not ini [", -1, NULL));
  /* and the store's index goes too, so the store reads each folder's own metadata again */
  g_autofree char *store_dir = g_path_get_dirname (folder);
  g_autofree char *index = g_build_filename (store_dir, "index.ini", NULL);
  g_assert_cmpint (g_unlink (index), ==, 0);
  win = gui_new_small_window (&cfg);
  ClRunEntry *damaged = entry (win, first);
  g_assert_cmpint (damaged->info->status, ==, CL_RUN_STATUS_DAMAGED);
  g_assert_nonnull (damaged->info->problem);
  g_assert_nonnull (strstr (damaged->title, "damaged"));
  g_assert_true (g_str_has_prefix (damaged->detail, "damaged: "));
  g_assert_nonnull (strstr (damaged->detail, damaged->info->problem));
  g_autofree char *why = g_strdup_printf ("Damaged: %s", damaged->info->problem);
  g_assert_nonnull (strstr (damaged->tooltip, why));
  assert_list_and_choices_agree (win);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

/* A note is note.txt beside run.ini (which does not change); it shows in the row and tooltip. */
static void
test_run_note (void)
{
  ClConfig cfg;
  ClWindow *win = gui_new_small_window (&cfg);
  g_autofree char *first = current_key (win);
  cfg.train_seed = 3;
  make_run (win, &cfg);
  ClRunEntry *e = entry (win, first);
  g_autofree char *ini_before = read_file (e->info->path, "run.ini");
  g_assert_nonnull (ini_before);
  GError *error = NULL;
  g_assert_true (cl_window_set_run_note (win, first, "  τ too high here; compare with seed 3  ", &error));
  g_assert_no_error (error);
  g_autofree char *note = read_file (e->info->path, "note.txt");
  g_assert_cmpstr (note, ==, "τ too high here; compare with seed 3\n");
  g_assert_cmpstr (e->note, ==, "τ too high here; compare with seed 3");
  g_assert_nonnull (strstr (e->tooltip, "Note: τ too high here"));
  g_autofree char *ini_after = read_file (e->info->path, "run.ini");
  g_assert_cmpstr (ini_after, ==, ini_before);
  /* The run folder still reads as a run, and a new window reads the note back. */
  g_autoptr (ClSnapshot) snap = cl_run_load (e->info->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (snap);
  g_autofree char *folder = g_strdup (e->info->path);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
  win = gui_new_small_window (&cfg);
  g_assert_cmpstr (entry (win, first)->note, ==, "τ too high here; compare with seed 3");
  /* An empty note removes the file. */
  g_assert_true (cl_window_set_run_note (win, first, "", &error));
  g_autofree char *gone = g_build_filename (folder, "note.txt", NULL);
  g_assert_false (g_file_test (gone, G_FILE_TEST_EXISTS));
  g_assert_null (entry (win, first)->note);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

static char *
trashed_path (const char *folder)
{
  g_autofree char *base = g_path_get_basename (folder);
  return g_build_filename (trash_dir, "files", base, NULL);
}

/* Delete: out of the list at once, Undo puts it back where it was with nothing changed on disk;
 * when the bar closes the folder is in the trash and the store has forgotten it. */
static void
test_trash_with_undo (void)
{
  ClConfig cfg;
  ClWindow *win = gui_new_small_window (&cfg);
  g_autofree char *first = current_key (win);
  cfg.train_seed = 4;
  make_run (win, &cfg);
  g_autofree char *live = current_key (win);
  GError *error = NULL;
  /* The run being recorded cannot go. */
  g_assert_false (cl_window_trash_run (win, live, &error));
  g_assert_nonnull (strstr (error->message, "being recorded"));
  g_clear_error (&error);

  g_autofree char *folder = g_strdup (entry (win, first)->info->path);
  guint position = 0;
  g_assert_true (g_list_store_find (win->runs, entry (win, first), &position));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (win->runs));
  g_assert_true (cl_window_compare_runs (win, NULL, first, &error));
  g_assert_true (cl_window_trash_run (win, first, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (win->runs)), ==, n - 1);
  g_assert_null (g_hash_table_lookup (win->entries, first));
  g_assert_true (gtk_widget_get_visible (win->undo_bar));
  g_assert_nonnull (strstr (gtk_label_get_text (win->undo_label), "deleted"));
  /* B was that run: B is now nothing (not a neighbour). */
  g_assert_cmpuint (gtk_drop_down_get_selected (win->run_b), ==, 0);
  g_assert_null (cl_window_get_figure_options (win, CL_FIGURE_LOSS)->compare);
  assert_list_and_choices_agree (win);
  /* The recorder's listing does not bring it back while the bar is open. */
  cl_window_record_runs_now (win);
  cl_window_runs_refresh (win);
  g_assert_null (g_hash_table_lookup (win->entries, first));
  g_assert_true (g_file_test (folder, G_FILE_TEST_IS_DIR));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.undo-trash", NULL));
  g_assert_false (gtk_widget_get_visible (win->undo_bar));
  guint back = 0;
  g_assert_true (g_list_store_find (win->runs, entry (win, first), &back));
  g_assert_cmpuint (back, ==, position);
  g_assert_true (g_file_test (folder, G_FILE_TEST_IS_DIR));
  assert_list_and_choices_agree (win);

  /* Delete again and let the bar close: the folder is in the trash, the store forgot it. */
  g_assert_true (cl_window_trash_run (win, first, &error));
  g_assert_true (cl_window_flush_trash (win, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
  g_autofree char *in_trash = trashed_path (folder);
  g_assert_true (g_file_test (in_trash, G_FILE_TEST_IS_DIR));
  g_autofree char *metrics = g_build_filename (in_trash, "metrics.csv", NULL);
  g_assert_true (g_file_test (metrics, G_FILE_TEST_IS_REGULAR));
  g_autoptr (GPtrArray) kept = cl_window_list_kept_runs (win);
  for (guint i = 0; i < kept->len; i++)
    g_assert_cmpstr (((ClRunInfo *) kept->pdata[i])->id, !=, first);
  cl_window_runs_refresh (win);
  g_assert_null (g_hash_table_lookup (win->entries, first));

  /* A delete still waiting when the window closes goes to the trash then. */
  g_autofree char *second = g_strdup (live);
  cfg.train_seed = 5;
  make_run (win, &cfg);
  g_autofree char *folder2 = g_strdup (entry (win, second)->info->path);
  g_assert_true (cl_window_trash_run (win, second, &error));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
  g_assert_false (g_file_test (folder2, G_FILE_TEST_EXISTS));
  g_autofree char *in_trash2 = trashed_path (folder2);
  g_assert_true (g_file_test (in_trash2, G_FILE_TEST_IS_DIR));
}

static gboolean
shown (ClWindow *win, const char *key)
{
  g_autoptr (GPtrArray) runs = cl_window_shown_runs (win);
  for (guint i = 0; i < runs->len; i++)
    if (g_strcmp0 (((ClRunEntry *) runs->pdata[i])->key, key) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
filtered_to_one (gpointer win)
{
  return g_list_model_get_n_items (G_LIST_MODEL (((ClWindow *) win)->runs_filtered)) == 1;
}

/* The filter: a preset name, words, key=value on run.ini (numbers compared as numbers). */
static void
test_filter (void)
{
  ClConfig cfg;
  ClWindow *win = gui_new_small_window (&cfg);
  GError *error = NULL;
  g_assert_true (cl_window_load (win, "randbits", &error));
  g_assert_no_error (error);
  win->config.train_batch = 16;
  win->config.data_bits = 12;
  make_run (win, &win->config);
  g_autofree char *bits12 = current_key (win);
  win->config.data_bits = 3;
  make_run (win, &win->config);
  g_autofree char *bits3 = current_key (win);
  g_assert_true (cl_window_load (win, "default", &error));
  win->config.train_batch = 16;
  make_run (win, &win->config);
  g_autofree char *plain = current_key (win);
  guint all = g_list_model_get_n_items (G_LIST_MODEL (win->runs));
  g_assert_cmpuint (win->runs_filtered ? g_list_model_get_n_items (G_LIST_MODEL (win->runs_filtered)) : 0, ==, all);

  /* The default preset is randbits with 0 bits: the word "randbits" is in every summary, while
   * preset:NAME keeps the runs named after that preset. */
  cl_window_set_run_filter (win, "randbits");
  g_assert_true (shown (win, bits12) && shown (win, bits3) && shown (win, plain));
  cl_window_set_run_filter (win, "preset:randbits");
  g_assert_true (shown (win, bits12) && shown (win, bits3));
  g_assert_false (shown (win, plain));
  cl_window_set_run_filter (win, "Preset:Default");
  g_assert_true (shown (win, plain));
  g_assert_false (shown (win, bits12) || shown (win, bits3));
  cl_window_set_run_filter (win, "preset:randbits data.bits=12");
  g_assert_true (shown (win, bits12));
  g_assert_false (shown (win, bits3) || shown (win, plain));
  cl_window_set_run_filter (win, "loss.temperature=0.10");
  g_assert_true (shown (win, bits12) && shown (win, bits3));
  cl_window_set_run_filter (win, "data.bits=99");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (win->runs_filtered)), ==, 0);
  /* The search entry drives the same filter; a note is searched too. */
  g_assert_true (cl_window_set_run_note (win, plain, "Keep: the reference run", &error));
  gtk_editable_set_text (GTK_EDITABLE (win->run_filter), "reference");
  /* a search entry reports typing after a short delay */
  g_assert_true (gui_spin_until (filtered_to_one, win, 10));
  g_assert_true (shown (win, plain));
  g_assert_false (shown (win, bits12));
  cl_window_set_run_filter (win, "");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (win->runs_filtered)), ==, all);
  /* The drop-downs keep every run whatever the filter. */
  assert_list_and_choices_agree (win);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

/* The probe chart gets the other seeds of the shown configuration among the loaded runs: the
 * live run's, or A's when A is a kept run; a run with another value of any other key is not one. */
static void
test_replicates (void)
{
  ClConfig cfg;
  ClWindow *win = gui_new_small_window (&cfg);
  cfg.train_seed = 11;
  make_run (win, &cfg);
  g_autofree char *seed11 = current_key (win);
  cfg.train_seed = 12;
  make_run (win, &cfg);
  g_autofree char *seed12 = current_key (win);
  ClConfig other = cfg;
  other.train_seed = 13;
  other.loss_temperature = 0.3;
  make_run (win, &other);
  g_autofree char *warm = current_key (win);
  cfg.train_seed = 14;
  make_run (win, &cfg);
  /* The shown run is the live seed 14: seeds 11 and 12 (stopped, kept) are its replicates (and so
   * are earlier tests' runs of this configuration); τ 0.3 is not. */
  for (int tries = 0; tries < 2000 && !(win->shown && strstr (win->shown->config_ini, "seed=14")); tries++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_nonnull (win->shown);
  cl_window_replicates_check (win);
  const ClFigureOptions *o = cl_window_get_figure_options (win, CL_FIGURE_PROBES);
  g_assert_cmpint (o->n_replicates, ==, cl_window_get_n_replicates (win));
  g_assert_cmpint (o->n_replicates, >=, 2);
  gboolean have11 = FALSE, have12 = FALSE;
  for (int i = 0; i < o->n_replicates; i++)
    {
      const char *ini = o->replicates[i]->config_ini;
      g_assert_null (strstr (ini, "temperature=0.3"));
      g_assert_null (strstr (ini, "seed=14"));
      have11 |= strstr (ini, "seed=11") != NULL;
      have12 |= strstr (ini, "seed=12") != NULL;
    }
  g_assert_true (have11 && have12);
  int n_live = o->n_replicates;
  /* A = the τ 0.3 run: it has no other seed here. */
  GError *error = NULL;
  g_assert_true (cl_window_compare_runs (win, warm, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (o->n_replicates, ==, 0);
  /* A = seed 11: seed 12 and the others, not seed 11 itself (nor the live run). */
  g_assert_true (cl_window_compare_runs (win, seed11, NULL, &error));
  g_assert_cmpint (o->n_replicates, ==, n_live - 1);
  for (int i = 0; i < o->n_replicates; i++)
    g_assert_null (strstr (o->replicates[i]->config_ini, "seed=11"));
  g_assert_true (cl_window_compare_runs (win, NULL, NULL, &error));
  g_assert_cmpint (o->n_replicates, ==, n_live);
  (void) seed12;
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

static ClRunInfo *
store_run (ClWindow *win, guint index)
{
  GPtrArray *list = cl_window_list_kept_runs (win);
  g_assert_cmpuint (index, <, list->len);
  ClRunInfo *info = cl_run_info_copy (list->pdata[index]);
  g_ptr_array_unref (list);
  return info;
}

static guint
store_size (ClWindow *win)
{
  GPtrArray *list = cl_window_list_kept_runs (win);
  g_assert_nonnull (list);
  guint n = list->len;
  g_ptr_array_unref (list);
  return n;
}

static guint second_index;
static gboolean
kept_run_has_rows (gpointer win)
{
  g_autoptr (ClRunInfo) info = store_run (win, second_index);
  return info->steps >= 3 && info->status == CL_RUN_STATUS_RUNNING;
}

static char *
png_config (const char *path)
{
  GHashTable *texts = NULL;
  GError *error = NULL;
  g_assert_true (cl_png_read_text (path, &texts, &error));
  g_assert_no_error (error);
  char *config = g_strdup (g_hash_table_lookup (texts, "contrastlab:config"));
  g_hash_table_unref (texts);
  return config;
}

/* Every run is kept, resets included; earlier runs overlay and compare; a folder of runs opens. */
static void
test_run_list (void)
{
  GError *error = NULL;
  ClConfig cfg;
  gui_test_config (&cfg, 16, 100000);
  cfg.train_seed = 5;
  ClWindow *win = gui_present_window (&cfg, -1);
  /* The window began recording its run as it started (earlier tests' runs are there too). */
  guint before = store_size (win) - 1;
  g_assert_true (gui_wait_for_step (win, 4, 60));
  cl_window_record_runs_now (win);
  g_assert_cmpuint (store_size (win), ==, before + 1);
  g_autoptr (ClRunInfo) first = store_run (win, before);
  g_assert_cmpint (first->status, ==, CL_RUN_STATUS_RUNNING);
  g_assert_cmpint (first->steps, >=, 4);
  g_assert_cmpint (first->seed, ==, 5);

  /* A reset is a new run; the old one is ended with its rows. */
  GtkWidget *seed_row = GTK_WIDGET (cl_window_get_param_row (win, "train.seed"));
  g_assert_nonnull (seed_row);
  cl_param_row_set_value (CL_PARAM_ROW (seed_row), "6");
  g_signal_emit_by_name (seed_row, "value-changed", "6");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.reset", NULL));
  g_assert_cmpuint (store_size (win), ==, before + 2);
  g_autoptr (ClRunInfo) ended = store_run (win, before);
  g_assert_cmpint (ended->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (ended->steps, >=, 4);
  g_assert_cmpuint (cl_window_get_n_runs (win), >=, before + 2);
  g_assert_true (gui_wait_for_step (win, 3, 60));
  /* Left alone, the window writes the live run every 3 s (on a worker thread). */
  second_index = before + 1;
  g_assert_true (gui_spin_until (kept_run_has_rows, win, 20));

  /* Tick the first run: the loss and probe views draw it faded. */
  const ClFigureOptions *o = cl_window_get_figure_options (win, CL_FIGURE_LOSS);
  g_assert_cmpint (o->n_overlays, ==, 0);
  g_assert_true (cl_window_set_run_overlay (win, first->id, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (o->n_overlays, ==, 1);
  g_assert_cmpint (o->overlays[0]->n_rows, >=, 4);
  g_assert_cmpstr (o->overlay_labels[0], ==, first->label);
  g_assert_cmpint (cl_window_get_figure_options (win, CL_FIGURE_PROBES)->n_overlays, ==, 1);
  g_assert_false (cl_window_set_run_overlay (win, "no-such-run", TRUE, &error));
  g_clear_error (&error);

  /* A/B: the live run against the first one. */
  g_assert_true (cl_window_compare_runs (win, NULL, first->id, &error));
  g_assert_no_error (error);
  g_assert_nonnull (o->compare);
  g_assert_cmpstr (o->label_b, ==, first->label);
  g_assert_nonnull (strstr (o->compare->config_ini, "seed=5"));
  /* A = the first run: the figures (and exports) show it instead of the live run. */
  g_assert_true (cl_window_compare_runs (win, first->id, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (o->compare);
  g_assert_cmpint (o->n_overlays, ==, 0); /* A itself is not drawn again as an overlay */
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-runs-XXXXXX", &error);
  g_autofree char *shown_png = g_build_filename (dir, "shown.png", NULL);
  g_assert_true (cl_window_export_png (win, shown_png, &error));
  g_assert_no_error (error);
  g_autofree char *shown_cfg = png_config (shown_png);
  g_assert_nonnull (strstr (shown_cfg, "seed=5"));
  g_assert_true (cl_window_compare_runs (win, NULL, NULL, &error));
  g_autofree char *live_png = g_build_filename (dir, "live.png", NULL);
  g_assert_true (cl_window_export_png (win, live_png, &error));
  g_autofree char *live_cfg = png_config (live_png);
  g_assert_nonnull (strstr (live_cfg, "seed=6"));

  /* A folder of runs made elsewhere (here: the first run saved as a headless-style folder). */
  ClSnapshot *snap = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  g_autofree char *opened = g_build_filename (dir, "runs", "lab-pc", "seed6", NULL);
  g_assert_true (cl_run_save (opened, snap, NULL, &error));
  g_assert_no_error (error);
  cl_snapshot_unref (snap);
  g_autofree char *runs_dir = g_build_filename (dir, "runs", NULL);
  guint n = cl_window_get_n_runs (win);
  g_assert_true (cl_window_open_runs_folder (win, runs_dir, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cl_window_get_n_runs (win), ==, n + 1);
  /* Opening it again adds nothing. */
  g_assert_true (cl_window_open_runs_folder (win, runs_dir, &error));
  g_assert_cmpuint (cl_window_get_n_runs (win), ==, n + 1);
  g_assert_true (cl_window_compare_runs (win, NULL, opened, &error));
  g_assert_no_error (error);
  g_assert_nonnull (o->compare);
  g_assert_cmpint (o->compare->n_rows, >, 0);
  g_assert_true (cl_window_set_run_overlay (win, opened, TRUE, &error));
  g_assert_cmpint (o->n_overlays, ==, 2);
  /* A folder without runs, and one that does not exist, are refused with a message. */
  g_autofree char *empty = g_build_filename (dir, "empty", NULL);
  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
  g_assert_false (cl_window_open_runs_folder (win, empty, &error));
  g_assert_nonnull (strstr (error->message, "holds no runs"));
  g_clear_error (&error);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_assert_false (cl_window_open_runs_folder (win, missing, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* Closing the window frees it at once (nothing it started holds it), which ends its run. */
  g_object_add_weak_pointer (G_OBJECT (win), (gpointer *) &win);
  gtk_window_destroy (GTK_WINDOW (win));
  g_assert_null (win);

  /* The next window (the app started again) finds both runs, ended cleanly. */
  ClWindow *again = cl_window_new (NULL, &cfg);
  g_assert_cmpuint (store_size (again), ==, before + 3); /* the two runs, and its own new one */
  g_autoptr (ClRunInfo) second = store_run (again, before + 1);
  g_assert_cmpint (second->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (second->seed, ==, 6);
  g_assert_cmpint (second->steps, >=, 3);
  gtk_window_destroy (GTK_WINDOW (again));
}

int
main (int argc, char **argv)
{
  /* The trash, the run store and the app's state live in private folders (one file system). */
  g_autofree char *home = g_dir_make_tmp ("contrastlab-runs-XXXXXX", NULL);
  g_assert_nonnull (home);
  g_autofree char *data_home = g_build_filename (home, "share", NULL);
  g_autofree char *config_home = g_build_filename (home, "config", NULL);
  g_mkdir_with_parents (data_home, 0700);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_autofree char *store = g_build_filename (home, "data", NULL);
  g_setenv ("CONTRASTLAB_DATA_DIR", store, TRUE);
  trash_dir = g_build_filename (data_home, "Trash", NULL);
  gtk_test_init (&argc, &argv, NULL);
  g_assert_cmpstr (g_get_user_data_dir (), ==, data_home);
  g_test_add_func ("/gui/run-list", test_run_list);
  g_test_add_func ("/gui/runs/list-and-choices-agree", test_list_and_choices_agree);
  g_test_add_func ("/gui/runs/note", test_run_note);
  g_test_add_func ("/gui/runs/trash-with-undo", test_trash_with_undo);
  g_test_add_func ("/gui/runs/filter", test_filter);
  g_test_add_func ("/gui/runs/replicates", test_replicates);
  return g_test_run ();
}
