/* A sweep's cells run by several processes at once (--jobs N). */
#pragma once
#include <glib.h>

/* Runs cells 0 .. n - 1 of the plan in out, at most jobs at a time, each as this program's own
 * `--headless --out OUT --cell P` (the locked, resumable --cell path), with `--set
 * train.threads=T` added when threads[P] > 0. Cells are started in index order; each child's
 * stderr is this process's. codes[P] receives the cell's exit code (CL_EXIT_*; a child ended by a
 * signal counts as CL_EXIT_INTERNAL). FALSE with error set when this program could not be started
 * (no cell after that one is started). */
gboolean cl_cli_run_cells (const char *out, int n, int jobs, const int *threads, int *codes, GError **error);
