/* Shared by the command-line tests (test_cli.c, test_cli_sweep.c): running the real binary,
 * temporary folders, reading what it wrote. */
#pragma once
#include <glib.h>
#include <sys/types.h>

/* ------------------------------------------------------------ distributed sweeps */

/* The sweep every distributed test runs: 4 short cells, seeds swept (so sweep.csv has the
 * mean/std columns), long enough (60 steps) that a cell can be killed mid-run. */
#define SWEEP_ARGS                                                                                                     \
  "--headless", "--set", "train.batch=16", "--set", "probe.every=0", "--set", "probe.images=100", "--set",             \
      "train.threads=1", "--steps", "60", "--sweep", "data.bits=0,3", "--sweep", "train.seed=1,2"

/* Temporary folders made by tmp_dir, removed by cli_remove_tmp_dirs when the program ends. */
extern GPtrArray *cli_tmp_dirs;
void cli_remove_tmp_dirs (void);

/* The contrastlab binary under test ($CONTRASTLAB_BIN). */
const char *bin (void);

/* Runs contrastlab with the given arguments; returns the exit status. */
int run (char **out, char **err, const char *first, ...);

/* Newlines in s. */
int count_lines (const char *s);

/* A new temporary folder (free it; it is removed at the end). */
char *tmp_dir (void);

/* rm -r path (symlinks are removed, not followed). */
void remove_tree (const char *path);

/* The text of dir/name; asserts it exists. */
char *read_text (const char *dir, const char *name);

/* A 2-step headless run into out_dir with the extra arguments (NULL-ended): asserts exit 2, one
 * line on stderr mentioning must_mention, and no metrics.csv left behind. */
void expect_bad_input (const char *must_mention, const char *out_dir, ...);

/* Writes dir/name. */
void write_file (const char *dir, const char *name, const void *data, gsize len);

/* The in-process sweep's sweep.csv (made once per test program). */
const char *reference_sweep_csv (void);

/* --plan: writes DIR/sweep.plan, prints the number of cells, trains nothing. */
char *make_plan (const char *parent, const char *name);

/* run () with "--headless --out OUT" first (at most 5 more arguments). */
int run_in (const char *out, char **err, const char *first, ...);

/* Starts contrastlab with args (NULL-ended), not reaped: see kill_and_reap. */
GPid spawn_async (const char *const *args);

/* Lines of dir/name, 0 when it does not exist yet. */
int file_lines (const char *dir, const char *name);

/* Waits (up to 60 s) until dir/metrics.csv holds at least rows data rows; FALSE if pid ended first. */
gboolean wait_rows (GPid pid, const char *dir, int rows);

/* kill -9 pid and wait for it; asserts it died of the signal. */
void kill_and_reap (GPid pid);

/* Every line of a CSV is whole: the file ends with a newline and each row has the header's
 * number of fields. */
void assert_whole_rows (const char *dir, const char *name);

/* Runs bin with args; asserts exit 2 and one line on stderr mentioning must_mention. */
void expect_exit2 (const char *must_mention, const char *const *args);
