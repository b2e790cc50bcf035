#pragma once
#include <gtk/gtk.h>
#include "engine/cl_params.h"
#include "engine/cl_trainer.h"
#include "ui/cl_param_row.h"
#include "ui/plots/cl_figures.h"

G_BEGIN_DECLS
#define CL_TYPE_WINDOW (cl_window_get_type ())
G_DECLARE_FINAL_TYPE (ClWindow, cl_window, CL, WINDOW, GtkApplicationWindow)

/* Opens a window that starts training config at once. */
ClWindow *cl_window_new (GtkApplication *app, const ClConfig *config);
/* The running trainer (NULL when the run could not start), e.g. for tests. */
ClTrainer *cl_window_get_trainer (ClWindow *win);
ClParamRow *cl_window_get_param_row (ClWindow *win, const char *key);
ClFigureKind cl_window_get_visible_figure (ClWindow *win);
void cl_window_show_figure (ClWindow *win, ClFigureKind kind);
/* Exports the shown figure of the latest snapshot without asking for a file name. */
gboolean cl_window_export_png (ClWindow *win, const char *path, GError **error);
/* Loads a preset NAME, an .ini file or an exported PNG, and restarts the run with it. */
gboolean cl_window_load (ClWindow *win, const char *name_or_file, GError **error);
/* Writes the current configuration as .ini (atomically). */
gboolean cl_window_save_config (ClWindow *win, const char *path, GError **error);
/* Shows a message in the window's error bar. */
void cl_window_show_error (ClWindow *win, const char *message);
G_END_DECLS
