/* ClWindow internals the window's own files and its tests share; not part of the public API. */
#pragma once
#include "app/cl_window.h"

G_BEGIN_DECLS
/* The "Restart to apply N changes" button, pinned below the controls list. */
GtkWidget *cl_window_get_restart_button (ClWindow *win);
G_END_DECLS
