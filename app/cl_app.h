#pragma once
#include <gtk/gtk.h>
#include "app/cl_cli.h"
#include "engine/base/cl_params.h"

G_BEGIN_DECLS
#define CL_TYPE_APP (cl_app_get_type ())
G_DECLARE_FINAL_TYPE (ClApp, cl_app, CL, APP, GtkApplication)

/* A non-unique application: every launch is its own process with its own run. */
ClApp *cl_app_new (const ClConfig *initial);
/* Folders whose runs the window opens in its run list when it appears (--open DIR). */
void cl_app_set_open_dirs (ClApp *app, const char *const *dirs);
/* Builds the configuration from --preset/--set and runs the window, with the runs under each
 * of open_dirs (NULL-terminated, may be NULL) in its run list; returns the exit code (2 when
 * a preset, a --set or an --open folder is bad). */
int cl_app_run (const ClCliOptions *opts, const char *const *open_dirs, const char *argv0);
G_END_DECLS
