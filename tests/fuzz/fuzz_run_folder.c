/* The run-folder readers: the CSV reader for each file kind (the first byte picks metrics,
 * probes, clusters or events), and run.ini / info.ini parsing into a ClRunInfo. */
#include <string.h>

#include "engine/store/cl_runs_private.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1 || size > (1 << 20))
    return 0;
  int kind = data[0] & 3;
  char *text = fuzz_text (data + 1, size - 1);
  static const struct
  {
    const ColSpec *cols;
    int n;
    size_t row;
  } specs[4] = {
    { cl_metric_cols, G_N_ELEMENTS (cl_metric_cols), sizeof (ClMetricRow) },
    { cl_probe_cols, G_N_ELEMENTS (cl_probe_cols), sizeof (ClProbeRow) },
    { cl_cluster_cols, G_N_ELEMENTS (cl_cluster_cols), sizeof (ClClusterRow) },
    { cl_event_cols, G_N_ELEMENTS (cl_event_cols), sizeof (ClEvent) },
  };
  GError *error = NULL;
  char *copy = g_memdup2 (text, size);
  GArray *rows =
      cl_csv_read_buffer (copy, size - 1, "fuzz.csv", specs[kind].cols, specs[kind].n, specs[kind].row, &error);
  if (rows)
    g_array_unref (rows);
  else
    fuzz_check_message (error);
  g_clear_error (&error);
  g_free (copy);

  /* run.ini and info.ini */
  ClRunInfo *info = cl_run_info_new_empty ();
  cl_run_info_from_run_ini (info, text);
  GKeyFile *kf = cl_runs_keyfile_from_text (text, "info.ini", &error);
  if (kf)
    {
      cl_run_info_from_keyfile (kf, "run", info);
      g_key_file_unref (kf);
    }
  else
    fuzz_check_message (error);
  g_clear_error (&error);
  char *summary = cl_config_ini_summary (text);
  g_free (summary);
  cl_run_info_free (info);
  g_free (text);
  return 0;
}
