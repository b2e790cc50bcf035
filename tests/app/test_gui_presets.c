/* Guidance from the presets, in-process under Xvfb: the presets popover (descriptions, the
 * current one ticked, interactive presets and sweeps apart), the question before unapplied edits
 * are discarded, and the "Try this" note (the preset's try= line, quoted by docs/guide.md).
 * Also where the export dialogs start: Pictures, then the last folder used. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "app/cl_app_state.h"
#include "app/cl_window_private.h"
#include "tests/app/gui_test_util.h"

static GKeyFile *
read_preset (const char *name)
{
  g_autofree char *path = cl_preset_resolve (name, NULL);
  g_assert_nonnull (path);
  GKeyFile *kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL));
  return kf;
}

static ClWindow *
new_window (const char *preset)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_true (cl_config_apply_preset (&cfg, preset, NULL));
  cfg.train_steps = 100000;
  ClWindow *win = cl_window_new_for_preset (NULL, &cfg, preset);
  gtk_window_present (GTK_WINDOW (win));
  gui_spin ();
  return win;
}

static GtkListBoxRow *
find_row (ClWindow *win, const char *name)
{
  for (guint i = 0; i < win->preset_rows->len; i++)
    if (g_strcmp0 (g_object_get_data (win->preset_rows->pdata[i], "preset"), name) == 0)
      return win->preset_rows->pdata[i];
  return NULL;
}

static gboolean
row_marked (GtkListBoxRow *row)
{
  return gtk_widget_get_opacity (g_object_get_data (G_OBJECT (row), "mark")) > 0.5;
}

static void
activate_row (ClWindow *win, const char *name)
{
  GtkListBoxRow *row = find_row (win, name);
  g_assert_nonnull (row);
  GtkWidget *list = gtk_widget_get_parent (GTK_WIDGET (row));
  g_signal_emit_by_name (list, "row-activated", row);
  gui_spin ();
}

/* Every preset once, with its file's description, grouped by whether it has a sweep= line;
 * only the current one ticked, and the tick follows a load. */
static void
test_presets_menu (void)
{
  ClWindow *win = new_window ("randbits");
  g_autoptr (GPtrArray) names = cl_preset_list ();
  g_assert_cmpuint (names->len, >=, 8);
  g_assert_cmpuint (win->preset_rows->len, ==, names->len);
  int n_sweeps = 0, n_interactive = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      GtkListBoxRow *row = find_row (win, name);
      g_assert_nonnull (row);
      g_autoptr (GKeyFile) kf = read_preset (name);
      g_autofree char *desc = g_key_file_get_string (kf, "preset", "description", NULL);
      g_assert_nonnull (desc);
      g_assert_cmpstr (gtk_label_get_text (g_object_get_data (G_OBJECT (row), "description")), ==, desc);
      gboolean sweep = g_key_file_has_key (kf, "preset", "sweep", NULL);
      g_assert_cmpint (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "group")), ==, sweep ? 1 : 0);
      n_sweeps += sweep;
      n_interactive += !sweep;
      /* The two groups are two lists, each under its heading. */
      GtkWidget *list = gtk_widget_get_parent (GTK_WIDGET (row));
      GtkWidget *heading = gtk_widget_get_prev_sibling (list);
      g_assert_true (GTK_IS_LABEL (heading));
      g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (heading)), sweep ? "Sweeps" : "Interactive"));
      g_assert_cmpint (row_marked (row), ==, strcmp (name, "randbits") == 0);
    }
  g_assert_cmpint (n_sweeps, >=, 3);
  g_assert_cmpint (n_interactive, >=, 2);
  g_assert_cmpstr (gtk_menu_button_get_label (win->preset_button), ==, "randbits");

  g_assert_true (cl_window_load (win, "default", NULL));
  g_assert_false (row_marked (find_row (win, "randbits")));
  g_assert_true (row_marked (find_row (win, "default")));
  g_assert_cmpstr (gtk_menu_button_get_label (win->preset_button), ==, "default");
  /* The file of a preset in the presets folder is that preset; any other file is not. */
  g_autofree char *path = cl_preset_resolve ("randbits", NULL);
  g_assert_true (cl_window_load (win, path, NULL));
  g_assert_true (row_marked (find_row (win, "randbits")));
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-presets-XXXXXX", NULL);
  g_autofree char *copy = g_build_filename (dir, "randbits.ini", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (copy, text, -1, NULL));
  g_assert_true (cl_window_load (win, copy, NULL));
  for (guint i = 0; i < win->preset_rows->len; i++)
    g_assert_false (row_marked (win->preset_rows->pdata[i]));
  g_assert_null (win->current_preset);
  g_unlink (copy);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

static gboolean
steps_pending (ClWindow *win)
{
  return gtk_widget_has_css_class (GTK_WIDGET (cl_window_get_param_row (win, "train.steps")), "pending");
}

/* A load with unapplied run-setup edits asks; Cancel keeps them, Discard loads. Without edits
 * nothing is asked. */
static void
test_ask_before_discarding (void)
{
  ClWindow *win = new_window ("randbits");
  /* Nothing to lose: loads at once. */
  activate_row (win, "default");
  g_assert_null (win->confirm_dialog);
  g_assert_cmpstr (win->current_preset, ==, "default");

  g_assert_true (cl_param_row_commit_text (cl_window_get_param_row (win, "train.steps"), "321", NULL));
  gui_spin ();
  g_assert_true (steps_pending (win));
  activate_row (win, "randbits");
  g_assert_nonnull (win->confirm_dialog);
  g_assert_true (gtk_widget_get_visible (win->confirm_dialog));
  /* It names the change it would discard. */
  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_STRING);
  g_object_get_property (G_OBJECT (win->confirm_dialog), "secondary-text", &v);
  g_assert_nonnull (strstr (g_value_get_string (&v), "→ 321"));
  g_value_unset (&v);
  g_assert_cmpstr (win->current_preset, ==, "default");
  gtk_dialog_response (GTK_DIALOG (win->confirm_dialog), GTK_RESPONSE_CANCEL);
  gui_spin ();
  g_assert_null (win->confirm_dialog);
  g_assert_cmpstr (win->current_preset, ==, "default");
  g_assert_true (steps_pending (win));
  g_assert_cmpint (win->config.train_steps, ==, 321);

  /* Open… and drops go the same way. */
  cl_window_load_or_complain (win, "randbits");
  g_assert_nonnull (win->confirm_dialog);
  gtk_dialog_response (GTK_DIALOG (win->confirm_dialog), GTK_RESPONSE_ACCEPT);
  gui_spin ();
  g_assert_null (win->confirm_dialog);
  g_assert_cmpstr (win->current_preset, ==, "randbits");
  g_assert_false (steps_pending (win));
  g_assert_cmpint (win->config.train_steps, ==, 1500);
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

/* Whitespace-collapsed copy (the guide wraps its lines). */
static char *
collapse (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;
  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isspace (*p))
        space = out->len > 0;
      else
        {
          if (space)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_c (out, *p);
        }
    }
  return g_string_free (out, FALSE);
}

/* docs/guide.md's section "## NAME: ..." up to the next "## ", or NULL. */
static char *
guide_section (const char *guide, const char *name)
{
  g_autofree char *head = g_strdup_printf ("\n## %s:", name);
  const char *start = strstr (guide, head);
  if (!start)
    return NULL;
  const char *end = strstr (start + strlen (head), "\n## ");
  return end ? g_strndup (start, (gsize) (end - start)) : g_strdup (start);
}

/* One source of truth: each preset's try= line; the guide quotes it word for word in the
 * preset's section, and every interactive preset has one. */
static void
test_try_notes_agree_with_guide (void)
{
  g_autofree char *guide_path = g_build_filename (CL_SOURCE_DIR, "docs", "guide.md", NULL);
  g_autofree char *guide = NULL;
  g_assert_true (g_file_get_contents (guide_path, &guide, NULL, NULL));
  g_autoptr (GPtrArray) names = cl_preset_list ();
  int n_notes = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autoptr (GKeyFile) kf = read_preset (name);
      g_autofree char *try_this = g_key_file_get_string (kf, "preset", "try", NULL);
      if (!g_key_file_has_key (kf, "preset", "sweep", NULL) && !try_this)
        g_error ("data/presets/%s.ini is an interactive preset without a [preset] try= line", name);
      if (!try_this)
        continue;
      n_notes++;
      g_autofree char *section = guide_section (guide, name);
      if (!section)
        g_error ("docs/guide.md has no section \"## %s: ...\" to quote %s.ini's try= line", name, name);
      g_autofree char *want = collapse (try_this);
      g_autofree char *have = collapse (section);
      if (!strstr (have, want))
        g_error ("docs/guide.md's section on %s does not quote the preset's try= line word for word; change both "
                 "together.\n  try=%s",
                 name, want);
    }
  g_assert_cmpint (n_notes, >=, 3);
}

static gboolean
note_shown (ClWindow *win)
{
  return gtk_widget_get_visible (win->try_note);
}

static void
assert_note_is (ClWindow *win, const char *preset)
{
  g_autoptr (GKeyFile) kf = read_preset (preset);
  g_autofree char *try_this = g_key_file_get_string (kf, "preset", "try", NULL);
  g_assert_nonnull (try_this);
  /* The label shows the text with `code` in monospace: the same words without the backticks. */
  GString *plain = g_string_new ("Try this: ");
  for (const char *p = try_this; *p; p++)
    if (*p != '`')
      g_string_append_c (plain, *p);
  g_assert_true (note_shown (win));
  g_assert_cmpstr (gtk_label_get_text (win->try_label), ==, plain->str);
  g_string_free (plain, TRUE);
}

/* The note shows the current preset's try= line; dismissing hides it for that preset only, for
 * this window and for later ones (the state file). */
static void
test_try_note (void)
{
  ClWindow *win = new_window ("randbits");
  assert_note_is (win, "randbits");
  g_assert_nonnull (strstr (gtk_label_get_text (win->try_label), "data.bits to 0"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.dismiss-try", NULL));
  gui_spin ();
  g_assert_false (note_shown (win));
  g_assert_true (cl_window_load (win, "default", NULL));
  assert_note_is (win, "default");
  g_assert_true (cl_window_load (win, "randbits", NULL));
  g_assert_false (note_shown (win));
  /* A preset without a note (randbits-table) shows none. */
  g_assert_true (cl_window_load (win, "randbits-table", NULL));
  g_assert_false (note_shown (win));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();

  g_autofree char *saved = cl_app_state_get ("dismissed-notes", "randbits");
  g_assert_nonnull (saved);
  win = new_window ("randbits");
  g_assert_false (note_shown (win));
  gtk_window_destroy (GTK_WINDOW (win));
  win = new_window ("default");
  assert_note_is (win, "default");
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

static char *pictures_dir;

static GtkFileChooser *
find_chooser (void)
{
  GList *tops = gtk_window_list_toplevels ();
  GtkFileChooser *found = NULL;
  for (GList *l = tops; l; l = l->next)
    if (GTK_IS_FILE_CHOOSER_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (tops);
  return found;
}

static gboolean
chooser_shown (gpointer data)
{
  (void) data;
  return find_chooser () != NULL;
}

static gboolean
chooser_gone (gpointer data)
{
  (void) data;
  return find_chooser () == NULL;
}

static gboolean
has_snapshot (gpointer win)
{
  return ((ClWindow *) win)->shown != NULL && !cl_window_exports_running (win);
}

static gboolean
chooser_has_folder (gpointer data)
{
  (void) data;
  GtkFileChooser *chooser = find_chooser ();
  g_autoptr (GFile) folder = chooser ? gtk_file_chooser_get_current_folder (chooser) : NULL;
  return folder != NULL;
}

/* Opens the chooser of action and returns the folder it starts in. */
static char *
chooser_folder (ClWindow *win, const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), action, NULL));
  g_assert_true (gui_spin_until (chooser_shown, NULL, 20));
  /* the chooser reports its folder once it has loaded it */
  g_assert_true (gui_spin_until (chooser_has_folder, NULL, 20));
  g_autoptr (GFile) folder = gtk_file_chooser_get_current_folder (find_chooser ());
  return g_file_get_path (folder);
}

/* Export dialogs start in Pictures (not the working folder), then where the last export went;
 * figures and CSV remember their own folder, and a folder that is gone falls back to Pictures. */
static void
test_export_folder (void)
{
  ClWindow *win = new_window ("default");
  g_assert_true (gui_spin_until (has_snapshot, win, 120));
  g_autofree char *start = chooser_folder (win, "win.export");
  g_assert_cmpstr (start, ==, pictures_dir);
  /* Export into another folder, as a user would. */
  g_autofree char *other = g_dir_make_tmp ("contrastlab-exports-XXXXXX", NULL);
  GtkFileChooser *chooser = find_chooser ();
  g_autoptr (GFile) other_dir = g_file_new_for_path (other);
  g_assert_true (gtk_file_chooser_set_current_folder (chooser, other_dir, NULL));
  gtk_file_chooser_set_current_name (chooser, "fig.png");
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (gui_spin_until (chooser_gone, NULL, 20));
  g_autofree char *png = g_build_filename (other, "fig.png", NULL);
  g_assert_true (gui_spin_until (has_snapshot, win, 60));
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_autofree char *again = chooser_folder (win, "win.export");
  g_assert_cmpstr (again, ==, other);
  gtk_dialog_response (GTK_DIALOG (find_chooser ()), GTK_RESPONSE_CANCEL);
  g_assert_true (gui_spin_until (chooser_gone, NULL, 20));
  /* CSV has its own memory: still Pictures. */
  g_autofree char *csv = chooser_folder (win, "win.export-csv");
  g_assert_cmpstr (csv, ==, pictures_dir);
  gtk_dialog_response (GTK_DIALOG (find_chooser ()), GTK_RESPONSE_CANCEL);
  g_assert_true (gui_spin_until (chooser_gone, NULL, 20));
  /* The remembered folder is gone: Pictures again. */
  g_unlink (png);
  g_rmdir (other);
  g_autofree char *fallback = chooser_folder (win, "win.export");
  g_assert_cmpstr (fallback, ==, pictures_dir);
  gtk_dialog_response (GTK_DIALOG (find_chooser ()), GTK_RESPONSE_CANCEL);
  g_assert_true (gui_spin_until (chooser_gone, NULL, 20));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

static gboolean
has_probe_round (gpointer win)
{
  const ClSnapshot *s = ((ClWindow *) win)->shown;
  return s && s->n_probes > 0 && s->n_rows > 0;
}

/* Every figure has an accessible name (its title) and a description: its caption (fitted to the run), then what it
 * shows now (the loss and probe figures say their latest values). */
static void
test_figures_accessible (void)
{
  ClWindow *win = new_window ("default");
  g_assert_true (gui_spin_until (has_probe_round, win, 120));
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      ClFigureView *view = win->figure_views[k];
      cl_figure_view_set_snapshot (view, win->shown);
      g_autofree char *text = cl_figure_view_describe (view);
      /* the caption fitted to the shown run, as under the figure */
      g_autofree char *caption = cl_figure_caption_for ((ClFigureKind) k, win->shown);
      g_assert_true (g_str_has_prefix (text, caption));
      g_assert_nonnull (strstr (text, "Now at step"));
      g_assert_null (gtk_test_accessible_check_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                         cl_figure_title ((ClFigureKind) k)));
      g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION));
    }
  g_autofree char *loss = cl_figure_view_describe (win->figure_views[CL_FIGURE_LOSS]);
  g_assert_nonnull (strstr (loss, "contrastive accuracy"));
  g_autofree char *probes = cl_figure_view_describe (win->figure_views[CL_FIGURE_PROBES]);
  g_assert_nonnull (strstr (probes, "class 0."));
  g_assert_nonnull (strstr (probes, "(chance 0."));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin ();
}

int
main (int argc, char **argv)
{
  /* Runs and the app's state go to private folders, never to the user's. */
  g_autofree char *config_dir = g_dir_make_tmp ("contrastlab-presets-config-XXXXXX", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_dir, TRUE);
  /* A Pictures folder of its own (user-dirs.dirs is read once, on first use). */
  pictures_dir = g_build_filename (config_dir, "Pictures", NULL);
  g_mkdir_with_parents (pictures_dir, 0700);
  g_autofree char *dirs_file = g_build_filename (config_dir, "user-dirs.dirs", NULL);
  g_autofree char *dirs = g_strdup_printf ("XDG_PICTURES_DIR=\"%s\"\n", pictures_dir);
  g_assert_true (g_file_set_contents (dirs_file, dirs, -1, NULL));
  /* The accessible properties are read back through GTK's test AT context (no AT-SPI bus). */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  g_autofree char *data_dir = g_dir_make_tmp ("contrastlab-presets-data-XXXXXX", NULL);
  g_assert_nonnull (data_dir);
  g_setenv ("CONTRASTLAB_DATA_DIR", data_dir, TRUE);
  g_assert_true (g_str_has_prefix (g_get_user_config_dir (), config_dir));
  g_test_add_func ("/gui/presets/menu", test_presets_menu);
  g_test_add_func ("/gui/presets/ask-before-discarding", test_ask_before_discarding);
  g_test_add_func ("/gui/presets/try-notes-agree-with-guide", test_try_notes_agree_with_guide);
  g_test_add_func ("/gui/presets/try-note", test_try_note);
  g_test_add_func ("/gui/export-folder", test_export_folder);
  g_test_add_func ("/gui/figures-accessible", test_figures_accessible);
  return g_test_run ();
}
