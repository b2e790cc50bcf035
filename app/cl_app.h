#pragma once
#include <gtk/gtk.h>
#include "cl_cli.h"
#include "engine/cl_params.h"

G_BEGIN_DECLS
#define CL_TYPE_APP (cl_app_get_type ())
G_DECLARE_FINAL_TYPE (ClApp, cl_app, CL, APP, GtkApplication)

/* A non-unique application: every launch is its own process with its own run. */
ClApp *cl_app_new (const ClConfig *initial);
/* Builds the configuration from --preset/--set and runs the window; returns the exit code. */
int cl_app_run (const ClCliOptions *opts, const char *argv0);
G_END_DECLS
