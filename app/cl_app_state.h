/* The app's small remembered state that is not a training parameter and not window geometry:
 * the last folders export dialogs used and the "Try this" notes the user dismissed.
 *
 * Kept in g_get_user_config_dir()/contrastlab/state.ini (a GKeyFile, replaced atomically with
 * cl_file_replace), not in GSettings: GSettings needs its schema installed, and an uninstalled
 * build (and every test) runs without one, where the window would otherwise forget everything.
 * GLib only. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS
/* The path of the state file (newly allocated). */
char *cl_app_state_path (void);
/* The value of group/key, or NULL when unset or when the file cannot be read. */
char *cl_app_state_get (const char *group, const char *key);
/* Sets group/key (value NULL removes it) and rewrites the file atomically. */
gboolean cl_app_state_set (const char *group, const char *key, const char *value, GError **error);

/* The folder an export dialog starts in: the last folder used for kind ("figure", "csv") when it
 * still exists, else the XDG Pictures folder, else the home folder. */
char *cl_app_state_export_folder (const char *kind);
/* Remembers folder as the last one used for kind (an error is only reported, never fatal). */
void cl_app_state_remember_export_folder (const char *kind, const char *folder);
G_END_DECLS
