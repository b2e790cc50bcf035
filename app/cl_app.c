#include "app/cl_app.h"

#include "cl_config.h"
#include "app/cl_export.h"
#include "app/cl_window.h"
#include "engine/nn/cl_layers.h"

/* Niceness of the training threads while the window is open (the headless CLI keeps 0). */
#define CL_APP_COMPUTE_NICE 5

struct _ClApp
{
  GtkApplication parent_instance;
  ClConfig initial;
  char *preset; /* what --preset named (NULL: the default preset) */
  char **open_dirs;
};

G_DEFINE_FINAL_TYPE (ClApp, cl_app, GTK_TYPE_APPLICATION)

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer data)
{
  (void) action;
  (void) param;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (data));
  /* Destroying windows frees their trainers (joining the threads) before the process exits. */
  while (windows)
    {
      GList *next = windows->next;
      gtk_window_destroy (GTK_WINDOW (windows->data));
      windows = next;
    }
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer data)
{
  (void) action;
  (void) param;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (data));
  const char *authors[] = { "The ContrastLab developers", NULL };
  gtk_show_about_dialog (parent, "program-name", "ContrastLab", "version", CL_VERSION, "comments",
                         "Watch contrastive learning happen, and poke at it.\n\n"
                         "Re-creates the experiments of “Intriguing Properties of Contrastive Losses” "
                         "by Ting Chen, Calvin Luo and Lala Li (NeurIPS 2021).",
                         "license-type", GTK_LICENSE_MIT_X11, "authors", authors, "logo-icon-name",
                         "applications-science", NULL);
}

static void
cl_app_startup (GApplication *app)
{
  G_APPLICATION_CLASS (cl_app_parent_class)->startup (app);
  /* Training fills every core; a lower priority for its threads keeps frames on time (on an idle
   * 2-core machine, 9% of frame intervals ran late while training at the same priority). */
  cl_layers_set_compute_nice (CL_APP_COMPUTE_NICE);
  static const GActionEntry entries[] = {
    { "quit", action_quit, NULL, NULL, NULL, { 0 } },
    { "about", action_about, NULL, NULL, NULL, { 0 } },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  GtkApplication *gapp = GTK_APPLICATION (app);
  const char *quit[] = { "<Control>q", NULL };
  const char *reset[] = { "<Control>r", NULL };
  const char *export[] = { "<Control>e", NULL };
  const char *export_csv[] = { "<Control><Shift>e", NULL };
  const char *open_runs[] = { "<Control><Shift>o", NULL };
  const char *sweep[] = { "<Control><Shift>w", NULL };
  const char *open_config[] = { "<Control>o", NULL };
  const char *save_config[] = { "<Control>s", NULL };
  const char *help[] = { "<Control>question", NULL };
  const char *presets[] = { "<Control>p", NULL };
  gtk_application_set_accels_for_action (gapp, "win.show-presets", presets);
  gtk_application_set_accels_for_action (gapp, "win.open-config", open_config);
  gtk_application_set_accels_for_action (gapp, "win.save-config", save_config);
  gtk_application_set_accels_for_action (gapp, "win.show-help-overlay", help);
  gtk_application_set_accels_for_action (gapp, "app.quit", quit);
  gtk_application_set_accels_for_action (gapp, "win.reset", reset);
  gtk_application_set_accels_for_action (gapp, "win.export", export);
  gtk_application_set_accels_for_action (gapp, "win.export-csv", export_csv);
  gtk_application_set_accels_for_action (gapp, "win.open-runs", open_runs);
  gtk_application_set_accels_for_action (gapp, "win.sweep", sweep);

  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/contrastlab/ContrastLab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (css);
}

static void
cl_app_activate (GApplication *app)
{
  ClApp *self = CL_APP (app);
  ClWindow *win = cl_window_new_for_preset (GTK_APPLICATION (app), &self->initial, self->preset);
  for (int i = 0; self->open_dirs && self->open_dirs[i]; i++)
    {
      GError *error = NULL;
      if (!cl_window_open_runs_folder (win, self->open_dirs[i], &error))
        {
          cl_window_show_error (win, error->message);
          g_error_free (error);
        }
    }
  gtk_window_present (GTK_WINDOW (win));
}

void
cl_app_set_open_dirs (ClApp *self, const char *const *dirs)
{
  g_strfreev (self->open_dirs);
  self->open_dirs = g_strdupv ((char **) dirs);
}

static void
cl_app_finalize (GObject *object)
{
  g_strfreev (CL_APP (object)->open_dirs);
  g_free (CL_APP (object)->preset);
  G_OBJECT_CLASS (cl_app_parent_class)->finalize (object);
}

static void
cl_app_class_init (ClAppClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cl_app_finalize;
  G_APPLICATION_CLASS (klass)->startup = cl_app_startup;
  G_APPLICATION_CLASS (klass)->activate = cl_app_activate;
}

static void
cl_app_init (ClApp *self)
{
  cl_config_init (&self->initial);
}

ClApp *
cl_app_new (const ClConfig *initial)
{
  ClApp *self = g_object_new (CL_TYPE_APP, "application-id", CL_APP_ID, "flags", G_APPLICATION_NON_UNIQUE, NULL);
  self->initial = *initial;
  return self;
}

int
cl_app_run (const ClCliOptions *opts, const char *const *open_dirs, const char *argv0)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  if (!cl_config_apply_preset (&cfg, opts->preset ? opts->preset : "default", &error))
    goto fail;
  for (int i = 0; opts->sets && opts->sets[i]; i++)
    if (!cl_config_set_assignment (&cfg, opts->sets[i], &error))
      goto fail;
  if (opts->steps > 0 && !cl_config_set_number (&cfg, cl_param_lookup ("train.steps"), opts->steps, &error))
    goto fail;

  for (int i = 0; open_dirs && open_dirs[i]; i++)
    if (!g_file_test (open_dirs[i], G_FILE_TEST_IS_DIR))
      {
        g_autofree char *display = g_filename_display_name (open_dirs[i]);
        g_printerr ("contrastlab: --open %s: no such folder\n", display);
        return 2;
      }
  ClApp *app = cl_app_new (&cfg);
  app->preset = g_strdup (opts->preset);
  cl_app_set_open_dirs (app, open_dirs);
  char *args[] = { (char *) argv0, NULL };
  int code = g_application_run (G_APPLICATION (app), 1, args);
  g_object_unref (app);
  cl_window_wait_for_exports ();
  return code;

fail:
  g_printerr ("contrastlab: %s\n", error->message);
  g_error_free (error);
  return 2;
}
